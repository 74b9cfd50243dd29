from phoenix_cli.main import main

main()
