from addon.cli import main

main()
