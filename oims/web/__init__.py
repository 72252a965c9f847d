"""The HTTP edge shared by every blueprint: input guards, security headers,
error pages, locale selection, Jinja helpers, shared form fields and
validators, edit-conflict pages and the one runner of form actions."""
