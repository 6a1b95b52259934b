"""t14hant: labels per language - reasons.label_zh_hant, review_rules.name_zh / name_zh_hant

`reasons.label` and `review_rules.name` stay the English text (required); `reasons.label_zh`
(the old "Label (Chinese)") is the Simplified one. The new columns hold the Traditional
(zh_Hant_TW) label and the rule names in both Chinese variants; empty means "show English".
Existing rows are kept; the seeded reasons and rules (unchanged English text) get their
translations.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# code -> (English label as seeded, Traditional label)
REASONS = {
    "non_payment": ("Overdue payment", "逾期未付款"),
    "over_credit": ("Balance over credit limit", "餘額超過信用額度"),
    "inactive": ("No orders for a long time", "長期無訂單"),
    "contract_ended": ("Contract ended", "合約已到期"),
    "customer_request": ("Customer request", "客戶要求"),
    "duplicate": ("Duplicate account", "重複帳戶"),
    "fraud_suspected": ("Suspected fraud", "疑似詐欺"),
    "issue_resolved": ("Issue resolved / payment received", "問題已解決或已收款"),
    "other": ("Other (explain in the memo)", "其他（請在備註中說明）"),
}
# English name as seeded -> (Simplified, Traditional)
RULES = {
    "Retail: no order for 365 days": ("零售：365 天无订单", "零售：365 天無訂單"),
    "Wholesale: no order for 180 days": ("批发：180 天无订单", "批發：180 天無訂單"),
    "Distributor: no order for 120 days": ("经销商：120 天无订单", "經銷商：120 天無訂單"),
    "Balance over credit limit": ("余额超出信用额度", "餘額超過信用額度"),
    "Contract ended more than 30 days ago": ("合同到期超过 30 天", "合約到期超過 30 天"),
}


def upgrade():
    with op.batch_alter_table("reasons") as batch:
        batch.add_column(sa.Column("label_zh_hant", sa.String(length=120), nullable=True))
    with op.batch_alter_table("review_rules") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("name_zh_hant", sa.String(length=120), nullable=True))
    reasons = sa.table("reasons", sa.column("code"), sa.column("label"), sa.column("label_zh_hant"))
    for code, (english, traditional) in REASONS.items():
        op.execute(
            reasons.update()
            .where(reasons.c.code == code, reasons.c.label == english)
            .values(label_zh_hant=traditional)
        )
    rules = sa.table(
        "review_rules", sa.column("name"), sa.column("name_zh"), sa.column("name_zh_hant")
    )
    for english, (simplified, traditional) in RULES.items():
        op.execute(
            rules.update()
            .where(rules.c.name == english)
            .values(name_zh=simplified, name_zh_hant=traditional)
        )


def downgrade():
    with op.batch_alter_table("review_rules") as batch:
        batch.drop_column("name_zh_hant")
        batch.drop_column("name_zh")
    with op.batch_alter_table("reasons") as batch:
        batch.drop_column("label_zh_hant")
