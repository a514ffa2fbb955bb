"""One module per `k2 bench <name>`; each defines NAME, HELP, `add_arguments(parser)` and
`run(args, settings) -> dict` returning the measured numbers (the JSON object printed last)."""
