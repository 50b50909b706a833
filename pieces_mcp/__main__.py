from pieces_mcp import main

main()
