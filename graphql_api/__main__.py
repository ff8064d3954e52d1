from graphql_api.cli import main

raise SystemExit(main())
