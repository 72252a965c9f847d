"""Needs: large firms' partner needs, their review, publication and search."""
