from accuse.cli import main

main()
