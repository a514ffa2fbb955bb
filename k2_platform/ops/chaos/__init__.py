"""Failure drills (`k2 chaos <scenario>`): real processes, a real fault, then a reconciliation against the recording."""
