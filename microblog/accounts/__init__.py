"""Users, their passwords and their API tokens."""
