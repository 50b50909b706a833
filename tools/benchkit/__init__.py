"""tools/bench.py in parts: the stdio driver, the servers, the measurements and the report (see tools/bench.py)."""
