from kit.catalog.describe import main

raise SystemExit(main())
