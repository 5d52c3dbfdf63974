"""Seed loaders: reference (confirmed facts), demo (facts plus visibly fictional SMEs), synthetic."""
