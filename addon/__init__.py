"""autobill's application core: persistence, QuickBooks side, jobs, tick, CLI."""
