"""Reasons for status changes and the rules that propose customers for review."""

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import Model
from admin_app.models.types import created_ts, intpk, updated_ts


class Reason(Model):
    __tablename__ = "reasons"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(120))  # English, required
    label_zh: Mapped[str | None] = mapped_column(String(120))  # 简体中文 (zh_Hans_CN)
    label_zh_hant: Mapped[str | None] = mapped_column(String(120))  # 繁體中文 (zh_Hant_TW)
    for_deactivate: Mapped[bool] = mapped_column(default=True)
    for_freeze: Mapped[bool] = mapped_column(default=True)
    for_reactivate: Mapped[bool] = mapped_column(default=False)
    memo_required: Mapped[bool] = mapped_column(default=False)
    # A status change with this reason needs a second person's approval, whatever its size.
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    def applies_to(self, action: str) -> bool:
        return bool(getattr(self, f"for_{action}", False))

    def __str__(self) -> str:
        return self.label


class ReviewRule(Model):
    __tablename__ = "review_rules"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(120))  # English, required
    name_zh: Mapped[str | None] = mapped_column(String(120))  # 简体中文 (zh_Hans_CN)
    name_zh_hant: Mapped[str | None] = mapped_column(String(120))  # 繁體中文 (zh_Hant_TW)
    segment: Mapped[str | None] = mapped_column(String(20))  # None: every segment
    inactivity_days: Mapped[int | None]
    flag_over_credit: Mapped[bool] = mapped_column(default=False)
    contract_ended_days: Mapped[int | None]
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id"))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    reason: Mapped[Reason | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name
