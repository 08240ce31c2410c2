"""Business rules, one module per domain. Plain functions over a session; no Reflex imports."""
