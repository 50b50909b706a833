"""Tool arguments and PiecesOS's answers, one module per toolset beside the catalog's."""
