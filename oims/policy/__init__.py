"""Who may see and change what: the one home of the access rules.

Pages, the JSON API, CSV exports and templates all ask these functions; no view
recomputes a rule of its own.

- `guards`: route decorators (`roles_required`), the fixed first step of a view;
- `visibility`: needs, proposals, anonymity and disclosure, imports, audit, calls, ratings;
- `orgs`: organisation profiles.
"""

from oims.policy.guards import roles_required, staff_required
from oims.policy.orgs import can_edit_org, can_view_org
from oims.policy.visibility import *  # noqa: F403 - the package is the public face of its modules
from oims.policy.visibility import __all__ as _visibility_all

__all__ = ["roles_required", "staff_required", "can_edit_org", "can_view_org", *_visibility_all]
