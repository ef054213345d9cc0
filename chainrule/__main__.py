from chainrule.cli import main

raise SystemExit(main())
