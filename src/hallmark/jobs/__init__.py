"""Long work as persisted jobs with progress, run by an in-process worker by default."""
