"""Bulk import of organisations and capability profiles (CSV / Excel), by
coordinators on a page with a dry-run report and a progress page, or by
`flask oims import-orgs` on the command line."""
