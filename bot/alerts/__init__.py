"""Alerts on the bot side: settings → analytics parameters (delivery lands here later)."""
