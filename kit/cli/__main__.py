from kit.cli.main import main

raise SystemExit(main())
