"""Passwords, tokens and the scope function (which environments a user may see)."""
