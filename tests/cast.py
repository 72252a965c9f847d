"""The shared test users: one cast for every test that needs people.

Ask for the `cast` fixture and use its members; each is made on first use
(through the factory), so a test pays only for the people it touches.

    Kanto bureau (関東経済産業局)                 Kinki bureau (近畿経済産業局)
    ------------------------------------------   ---------------------------------------
    coordinator        関東 調整                  other_coordinator   近畿 調整
    owner_org          東都モビリティ工業株式会社  other_owner_org     浪速化学株式会社
                       (large, Kanagawa, JSIC E)                      (large, Osaka, JSIC E)
    owner              鈴木 一郎 (its org admin)   other_owner         山田 花子
    proposer_org       城南精密加工株式会社 (SME, Tokyo)
    proposer           提案 花子 (alice@example.jp)
    university         東都工業大学 (Tokyo)
    researcher         研究 三郎 (a proposer user of the university)

    Kyushu: other_proposer_org 博多樹脂成形株式会社 (SME, Fukuoka), other_proposer 別社 次郎 (bob@example.jp)
    Nationwide: admin 管理 者 (admin@example.jp)

The names are attributes too (`cast.owner_org.name`, `cast.owner.name`), so a
test that checks a name never shows asserts against the cast, not a literal.

A scenario that needs more (a need with proposals, a held meeting, a KPI
world with fixed dates) is a fixture of its own that starts from these
users; see tests/proposals/conftest.py (`need`) or tests/casework/conftest.py (`case`).
The factory publishes needs with the coordinator of the need's bureau, which
for Kanto and Kinki is this cast's coordinator.
"""

from __future__ import annotations

import functools


def member(make):
    """A cast member: made by `make` on first use, the same row afterwards (looked up in the
    current session, so the cast also serves a live server across app contexts)."""
    name = make.__name__

    @functools.wraps(make)
    def get(self):
        if name in self._made:
            model, row_id = self._made[name]
            row = self.factory.db.session.get(model, row_id)
            if row is not None:
                return row
        row = make(self)
        self._made[name] = (type(row), row.id)
        return row

    return property(get)


class Cast:
    def __init__(self, factory):
        self.factory = factory
        self._made: dict[str, tuple[type, int]] = {}

    # --- the bureau and the admin ----------------------------------------------------------------

    @member
    def coordinator(self):
        """Coordinator of the Kanto bureau, where the owner, the proposer and the university are."""
        f = self.factory
        return f.user("coordinator", org=f.org(kind="support", prefecture="13", name="関東経済産業局"),
                      name="関東 調整", email="kanto.coord@example.jp")

    @member
    def other_coordinator(self):
        """Coordinator of another bureau (Kinki): sees nothing of Kanto's needs and cases."""
        f = self.factory
        return f.user("coordinator", org=f.org(kind="support", prefecture="27", name="近畿経済産業局"),
                      name="近畿 調整", email="kinki.coord@example.jp")

    @member
    def admin(self):
        f = self.factory
        return f.user("admin", org=f.org(kind="support", prefecture="13", name="経済産業省"),
                      name="管理 者", email="admin@example.jp")

    def coordinator_of(self, bureau: str):
        return {"kanto": self.coordinator, "kinki": self.other_coordinator}[bureau]

    # --- need owners -------------------------------------------------------------------------------

    @member
    def owner_org(self):
        return self.factory.org(kind="large", prefecture="14", name="東都モビリティ工業株式会社",
                                name_en="Toto Mobility Industries", industry="E")

    @member
    def owner(self):
        """The need owner's user (Kanto), admin of its organisation."""
        return self.factory.user("need_owner", org=self.owner_org, name="鈴木 一郎", email="owner@example.jp")

    @member
    def other_owner_org(self):
        return self.factory.org(kind="large", prefecture="27", name="浪速化学株式会社", name_en="Naniwa Chemical",
                                industry="E")

    @member
    def other_owner(self):
        """A second need owner, in the Kinki bureau."""
        return self.factory.user("need_owner", org=self.other_owner_org, name="山田 花子",
                                 email="other.owner@example.jp")

    # --- proposers -----------------------------------------------------------------------------------

    @member
    def proposer_org(self):
        return self.factory.org(kind="sme", prefecture="13", name="城南精密加工株式会社",
                                name_en="Jonan Precision")

    @member
    def proposer(self):
        return self.factory.user("proposer", org=self.proposer_org, name="提案 花子", email="alice@example.jp")

    @member
    def other_proposer_org(self):
        return self.factory.org(kind="sme", prefecture="40", name="博多樹脂成形株式会社", name_en="Hakata Resin")

    @member
    def other_proposer(self):
        """A competing proposer (another firm, Kyushu): never sees the proposer's proposals."""
        return self.factory.user("proposer", org=self.other_proposer_org, name="別社 次郎", email="bob@example.jp")

    @member
    def university(self):
        return self.factory.org(kind="university", prefecture="13", name="東都工業大学",
                                name_en="Toto Institute of Technology")

    @member
    def researcher(self):
        return self.factory.user("proposer", org=self.university, name="研究 三郎", email="researcher@example.jp")
