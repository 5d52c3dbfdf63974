"""The enterprises domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.enterprises.models import (
    DesignationLevel,
    DesignationType,
    EnterpriseSize,
    InvestorAttributeKind,
    Ownership,
)
from chaindb.vocab import vocabulary

SIZE_LABELS = vocabulary(
    EnterpriseSize,
    {
        "large": _l("large (大型)"),
        "medium": _l("medium (中型)"),
        "small": _l("small (小型)"),
        "micro": _l("micro (微型)"),
    },
)

OWNERSHIP_LABELS = vocabulary(
    Ownership,
    {
        "state": _l("state-owned (国有)"),
        "private": _l("private (民营)"),
        "foreign": _l("foreign-invested (外资)"),
        "hmt": _l("Hong Kong, Macao or Taiwan (港澳台资)"),
        "collective": _l("collective (集体)"),
        "mixed": _l("mixed ownership (混合所有制)"),
        "other": _l("other"),
    },
)

DESIGNATION_TYPE_LABELS = vocabulary(
    DesignationType,
    {
        "innovative_sme": _l("innovative SME (创新型中小企业)"),
        "specialized_sme": _l("specialized SME (专精特新中小企业)"),
        "little_giant": _l("little giant (专精特新“小巨人”)"),
        "single_champion": _l("single champion (制造业单项冠军)"),
        "high_tech": _l("high-tech enterprise (高新技术企业)"),
        "gazelle": _l("gazelle (瞪羚企业)"),
        "unicorn": _l("unicorn (独角兽企业)"),
    },
)

DESIGNATION_LEVEL_LABELS = vocabulary(
    DesignationLevel,
    {
        "national": _l("national (国家级)"),
        "provincial": _l("provincial (省级)"),
        "city": _l("city (市级)"),
    },
)

INVESTOR_ATTRIBUTE_LABELS = vocabulary(
    InvestorAttributeKind,
    {
        "fortune_global_500": _l("Fortune Global 500 (世界500强)"),
        "china_500": _l("China top 500 (中国企业500强)"),
        "private_500": _l("China private top 500 (民营企业500强)"),
        "central_soe": _l("central state-owned (央企)"),
        "listed": _l("listed company (上市公司)"),
    },
)
