"""The verifier's logic. Nothing here imports Flask: functions take a SQLAlchemy session, the
in-memory `TrustStore`, the time and plain values, so the CLI, the views, tests and benches
call them alike."""
