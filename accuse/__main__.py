from accuse.cli.app import main

main()
