"""Who may do what: admin, HQ, staff, decided on the server for every action.

- Admin: Microsoft Entra object ids in BCP_ADMINS.
- HQ: object ids in BCP_HQ_USERS, and every admin.
- Staff: everyone else who reaches the bot.

In anonymous local mode (no app id: the Agents Playground) nobody is signed in, so when
neither list is set everyone is an admin and every capability can be tried. When either
list is set, roles follow the lists there too, so refusals can be tried locally.

Known gap: members of teams an admin registered as HQ are not HQ yet. Registering HQ
teams and refreshing their rosters from Teams comes with the admin commands; until then
HQ members are listed one by one in BCP_HQ_USERS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.model import Reporter
from bot.settings import Settings


class Role(IntEnum):
    STAFF = 1
    HQ = 2
    ADMIN = 3


@dataclass(frozen=True)
class Roles:
    """The role of each person, from the settings."""

    admins: frozenset[str] = frozenset()
    hq_users: frozenset[str] = frozenset()
    everyone_is_admin: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "Roles":
        return cls(
            admins=settings.admins,
            hq_users=settings.hq_users,
            everyone_is_admin=settings.anonymous and not (settings.admins or settings.hq_users),
        )

    def role_of(self, person: Reporter) -> Role:
        """Return the role of `person`, known by their Entra object id."""
        if self.everyone_is_admin:
            return Role.ADMIN
        object_id = person.aad_object_id.strip().lower()
        if object_id and object_id in self.admins:
            return Role.ADMIN
        if object_id and object_id in self.hq_users:
            return Role.HQ
        return Role.STAFF

    def is_hq(self, person: Reporter) -> bool:
        """Return True for HQ members and admins."""
        return self.role_of(person) >= Role.HQ
