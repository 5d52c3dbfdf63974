"""Demo data: the anchor enterprises, roles and named projects of the facts, a map for each of the
13 iconic chains (the industry's general structure, marked basis = 'general': not facts about
the city, for the chain offices to correct), and visibly fictional SMEs (names marked 示例 / Demo, credit codes with 'DEM') linked
as suppliers around the chain masters. Needs the reference seed."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, any_, insert, literal, select, update
from sqlalchemy import text as sql_text

from chaindb.chains.models import SegmentBasis
from chaindb.enterprises.merge import merged_into, merged_name_into
from chaindb.enterprises.search import name_initials
from chaindb.enterprises.uscc import with_check_character
from chaindb.models import (
    Chain,
    ChainRole,
    ChainSegment,
    Designation,
    District,
    Enterprise,
    LeadingChain,
    Project,
    SupplyLink,
)
from chaindb.projects.models import STAGE_DATE_COLUMN, STAGE_ORDER, Stage
from chaindb.promotion.models import Lead, Negotiation, Trip, TripVisit
from chaindb.targets.models import ChainRevenue, Target
from chaindb.units.models import Unit
from seeds.loader import (
    SEEDS_DIR,
    Lookup,
    Report,
    Row,
    SeedError,
    boolean,
    day,
    decimal,
    integer,
    read_csv,
    required,
    text,
    upsert,
)

DIR = SEEDS_DIR / "demo"
REPORTED_BY = "汽车产业链链长办（示例）"


def load(conn: Connection, report: Report) -> None:
    if conn.execute(select(Chain.id).limit(1)).first() is None:
        raise SeedError(DIR, 0, "the chain table is empty: run `chaindb seed reference` first")
    load_segments(conn, report)
    load_enterprises(conn, report)
    load_roles(conn, report)
    load_projects(conn, report)
    load_fictional_suppliers(conn, report)
    load_reviews(conn, report)
    load_leading_chains(conn, report)
    load_promotion(conn, report)
    load_progress(conn, report)


def load_segments(conn: Connection, report: Report) -> None:
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    columns = {
        "chain": required, "code": required, "parent": text, "name_zh": required,
        "name_en": text, "position": required, "sort_order": integer, "description": text,
    }  # fmt: skip
    ids: dict[tuple[int, str], int] = {}
    for row in read_csv(DIR / "segments.csv", columns):
        v = row.values
        chain_id = chains(v["chain"], row, "chain")
        parent_id = None
        if v["parent"]:
            parent_id = ids.get((chain_id, v["parent"]))
            if parent_id is None:
                raise row.error(f"parent: segment {v['parent']!r} is not defined above this line")
        values = {k: v[k] for k in ("name_zh", "name_en", "position", "sort_order", "description")}
        values["parent_id"] = parent_id
        key = {"chain_id": chain_id, "code": v["code"]}
        if (office_id := _confirmed_by_office(conn, key)) is not None:
            ids[(chain_id, v["code"])] = office_id
            report.add(ChainSegment.__tablename__, "unchanged")
            continue
        # Every seeded map is the general structure of its industry, not a fact about the city.
        values["basis"] = SegmentBasis.GENERAL.value
        ids[(chain_id, v["code"])] = upsert(
            conn,
            ChainSegment.__table__,
            key,
            values,
            report=report,
            row=row,
        )


def _confirmed_by_office(conn: Connection, key: dict[str, Any]) -> int | None:
    """The id of the segment at `key` when the chain office has confirmed it (entered it, or
    checked the seeded one): a later seed leaves it as the office left it."""
    table = ChainSegment.__table__
    return conn.execute(
        select(table.c.id).where(
            *(table.c[k] == v for k, v in key.items()), table.c.basis == SegmentBasis.CONFIRMED
        )
    ).scalar()


class SegmentLookup:
    """'chain code' + 'segment code' -> segment id."""

    def __init__(self, conn: Connection) -> None:
        rows = conn.execute(select(ChainSegment.chain_id, ChainSegment.code, ChainSegment.id))
        self.ids = {(chain_id, code): id_ for chain_id, code, id_ in rows}

    def __call__(
        self, chain_id: int, code: str | None, row: Row, column: str = "segment"
    ) -> int | None:
        if code is None:
            return None
        found = self.ids.get((chain_id, code))
        if found is None:
            raise row.error(f"{column}: no segment {code!r} in that chain")
        return found


class EnterpriseLookup(Lookup):
    """Registered name -> enterprise id: the first enterprise of that name, else the one that
    has it as an alias or took it over in a merge (chaindb.enterprises.merge)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn, Enterprise.__table__, "name_zh", "enterprise")

    def find(self, name: str) -> tuple[int | None, bool]:
        """(id, whether the name is that enterprise's own) of the enterprise named `name`."""
        own = self.conn.execute(
            select(Enterprise.id).where(Enterprise.name_zh == name).order_by(Enterprise.id).limit(1)
        ).scalar()
        if own is not None:
            return own, True
        other = self.conn.execute(
            select(Enterprise.id)
            .where(literal(name) == any_(Enterprise.aliases))
            .order_by(Enterprise.id)
            .limit(1)
        ).scalar() or merged_name_into(self.conn, name)
        return other, False

    def __call__(self, value: Any, row: Row, column: str) -> int | None:
        if value is None:
            return None
        if value not in self._cache:
            found, _ = self.find(value)
            if found is None:
                raise row.error(f"{column}: no enterprise named {value!r}")
            self._cache[value] = found
        return self._cache[value]


def enterprise_by_name(conn: Connection) -> EnterpriseLookup:
    return EnterpriseLookup(conn)


def load_enterprises(conn: Connection, report: Report) -> None:
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    enterprises = enterprise_by_name(conn)
    columns = {
        "name_zh": required, "name_en": text, "short_name": text, "district": text,
        "region_code": text, "size": text, "ownership": text, "notes": text,
    }  # fmt: skip
    for row in read_csv(DIR / "enterprises.csv", columns):
        v = dict(row.values)
        values = {
            k: v[k] for k in ("name_en", "short_name", "region_code", "size", "ownership", "notes")
        }
        values["district_id"] = districts(v["district"], row, "district")
        values["name_initials"] = name_initials(v["name_zh"], v["short_name"])
        # The anchors' registered names and codes are not in the sources: keyed by name. An
        # anchor merged into another enterprise (its name now an alias there) is that one's.
        found, own = enterprises.find(v["name_zh"])
        if found is not None and not own:
            report.add(Enterprise.__tablename__, "unchanged")
            continue
        key = {"id": found} if found is not None else {"name_zh": v["name_zh"], "uscc": None}
        upsert(conn, Enterprise.__table__, key, values, report=report, row=row)


def load_roles(conn: Connection, report: Report) -> None:
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    enterprises = enterprise_by_name(conn)
    segments = SegmentLookup(conn)
    columns = {
        "enterprise": required, "chain": required, "segment": text, "role": required,
        "since": day, "until": day, "source": text, "notes": text,
    }  # fmt: skip
    for row in read_csv(DIR / "chain_roles.csv", columns):
        v = row.values
        chain_id = chains(v["chain"], row, "chain")
        key = {
            "enterprise_id": enterprises(v["enterprise"], row, "enterprise"),
            "chain_id": chain_id,
            "segment_id": segments(chain_id, v["segment"], row),
            "role": v["role"],
        }
        values = {k: v[k] for k in ("since", "until", "source", "notes")}
        upsert(conn, ChainRole.__table__, key, values, report=report, row=row)


PROJECT_COLUMNS = {
    "name": required, "chain": required, "segment": text, "district": required,
    "investor": text, "investor_name": text, "chain_master": text, "kind": required,
    "parent": text, "channel": text, "agreed_investment_cny_100m": decimal,
    "funds_arrived_cny_100m": decimal, "stage": required, "signed_on": day,
    "agreed_start_on": day, "construction_started_on": day, "production_started_on": day,
    "capacity_reached_on": day, "is_key": boolean, "source": text, "notes": text,
}  # fmt: skip


def load_projects(conn: Connection, report: Report) -> None:
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    enterprises = enterprise_by_name(conn)
    projects = Lookup(conn, Project.__table__, "name", "project above this line")
    segments = SegmentLookup(conn)
    table = Project.__table__
    conn.execute(sql_text("SELECT set_config('chaindb.stage_note', '演示数据录入', true)"))
    # A stage the sources do not date gets no day in the history (never the day of the load).
    conn.execute(sql_text("SELECT set_config('chaindb.stage_date', 'unknown', true)"))
    for row in read_csv(DIR / "projects.csv", PROJECT_COLUMNS):
        v = row.values
        if v["stage"] not in set(Stage):
            raise row.error(f"stage: {v['stage']!r} is not one of {', '.join(Stage)}")
        chain_id = chains(v["chain"], row, "chain")
        values: dict[str, Any] = {
            "chain_id": chain_id,
            "segment_id": segments(chain_id, v["segment"], row),
            "district_id": districts(v["district"], row, "district"),
            "investor_id": enterprises(v["investor"], row, "investor"),
            "chain_master_id": enterprises(v["chain_master"], row, "chain_master"),
            "parent_id": projects(v["parent"], row, "parent"),
            "is_key": bool(v["is_key"]),
            # The sources report these projects: their figures count (approved).
            "review_status": "approved",
        }
        for column in (
            "investor_name", "kind", "channel", "agreed_investment_cny_100m",
            "funds_arrived_cny_100m", "stage", "signed_on", "agreed_start_on",
            "construction_started_on", "production_started_on", "capacity_reached_on",
            "source", "notes",
        ):  # fmt: skip
            values[column] = v[column]
        # The first project of that name is the seed's (another entered later with the same
        # name, on purpose, is left alone).
        existing = conn.execute(
            select(table.c.id).where(table.c.name == v["name"]).order_by(table.c.id).limit(1)
        ).scalar()
        if existing is None:
            # A new project walks through the stages the sources date, so its history is real.
            first, *later = _dated_path(values)
            existing = upsert(
                conn, table, {"name": v["name"]}, _at_stage(values, first), report=report, row=row
            )
            for stage in later:
                conn.execute(
                    update(table).where(table.c.id == existing).values(_at_stage(values, stage))
                )
        else:
            upsert(conn, table, {"id": existing}, values, report=report, row=row)


def _dated_path(values: dict[str, Any]) -> list[Stage]:
    target = Stage(values["stage"])
    path = [
        stage
        for stage, column in STAGE_DATE_COLUMN.items()
        if stage in STAGE_ORDER
        and values.get(column)
        and STAGE_ORDER[stage] < STAGE_ORDER.get(target, 99)
    ]
    return [*path, target]


def _at_stage(values: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """The project as it stood at `stage`: later stages' dates not yet known."""
    rank = STAGE_ORDER.get(stage, 99)
    at = dict(values, stage=stage.value)
    for later, column in STAGE_DATE_COLUMN.items():
        if later in STAGE_ORDER and STAGE_ORDER[later] > rank:
            at[column] = None
    return at


# --- fictional suppliers ---------------------------------------------------------------------

# segment code -> (products, where suppliers come from: share local, share elsewhere in Shandong)
AUTOMOTIVE_SUPPLY = {
    "materials.steel-aluminium": (["冷轧钢板", "铝合金型材", "热镀锌板"], 0.6, 0.3),
    "materials.chemicals": (["工程塑料粒子", "车用胶粘剂", "碳纤维复合件"], 0.4, 0.4),
    "battery.cathode-anode": (["磷酸铁锂正极", "人造石墨负极"], 0.0, 0.4),
    "battery.cell": (["电池壳体", "极耳", "电芯隔膜"], 0.5, 0.3),
    "battery.bms": (["BMS 采集板", "高压连接器"], 0.5, 0.3),
    "e-drive.motor": (["定转子铁芯", "扁线绕组", "电机轴"], 0.5, 0.3),
    "e-drive.controller": (["IGBT 模组散热器", "控制器壳体"], 0.4, 0.3),
    "electronics.power-semi": (["功率模块基板", "SiC 外延片"], 0.3, 0.2),
    "electronics.sensors": (["毫米波雷达", "激光雷达", "车载摄像头"], 0.0, 0.2),
    "electronics.cockpit": (["中控屏总成", "车载线束", "座舱域控制器"], 0.4, 0.4),
    "parts.chassis": (["转向节", "副车架", "制动卡钳", "悬架摆臂"], 0.5, 0.4),
    "parts.body": (["冲压件", "焊接总成", "车门总成"], 0.6, 0.3),
    "parts.interior": (["座椅总成", "仪表板", "门护板", "顶棚"], 0.5, 0.4),
    "parts.tires": (["乘用车轮胎"], 0.0, 0.9),
    "parts.castings": (["铝合金轮毂", "壳体铸件", "锻造曲轴"], 0.7, 0.2),
}
SHANDONG_ELSEWHERE = ["370200", "370300", "370600", "370700", "370800", "371300", "371500"]
OUT_OF_PROVINCE = ["320500", "440300", "330200", "310115", "340100", "420100"]
LOCAL_DISTRICTS = ["370112", "370113", "370114", "370115", "370105", "370104", "370176", "370116"]
NAME_WORDS = [
    "恒远", "鑫达", "华宇", "金泰", "宏信", "瑞丰", "博通", "永盛", "汇川", "中联", "东岳", "齐力",
    "昊天", "泉城", "锦程", "明辉", "润泽", "盛华", "天诚", "新峰", "正宇", "佳和", "凯腾", "立信",
]  # fmt: skip
SUFFIXES = ["汽车零部件", "精密制造", "新材料", "科技", "机械", "电子"]


def fictional_suppliers(seed: int = 2026) -> list[dict[str, Any]]:
    """About 400 fictional SMEs around BYD and 30 around Sinotruk Jinan Truck, deterministic."""
    rng = random.Random(seed)
    segments = list(AUTOMOTIVE_SUPPLY)
    out = []
    for n in range(1, 431):
        buyer = "比亚迪济南基地" if n <= 400 else "中国重汽集团济南卡车"
        segment = (
            segments[n % len(segments)]
            if n <= 400
            else rng.choice(
                ["parts.chassis", "parts.castings", "parts.body", "materials.steel-aluminium"]
            )
        )
        products, local_share, shandong_share = AUTOMOTIVE_SUPPLY[segment]
        if n > 400:  # 济卡's 30 配套企业 are clustered in 莱芜
            local_share, shandong_share = 1.0, 0.0
        draw = rng.random()
        if draw < local_share:
            district = "370116" if n > 400 else rng.choice(LOCAL_DISTRICTS)
            region = None
            place = "济南"
        elif draw < local_share + shandong_share:
            district, region, place = None, rng.choice(SHANDONG_ELSEWHERE), "山东"
        else:
            district, region, place = None, rng.choice(OUT_OF_PROVINCE), ""
        registration = district if district and district.isdigit() else (region or "370100")
        word = NAME_WORDS[n % len(NAME_WORDS)]
        suffix = SUFFIXES[(n // len(NAME_WORDS)) % len(SUFFIXES)]
        since = date(2022, 6, 1) + timedelta(days=rng.randrange(0, 1300))
        status = rng.choices(["active", "ended", "proposed"], weights=[88, 6, 6])[0]
        out.append(
            {
                "n": n,
                "uscc": with_check_character(f"91{registration}DEM{n:06d}"),
                "name_zh": f"（示例）{place}{word}{suffix}有限公司{n:03d}号",
                "name_en": f"[Demo] {word} {suffix} Co. No. {n:03d}",
                "district": district,
                "region_code": region,
                "size": rng.choices(["medium", "small", "micro"], weights=[25, 55, 20])[0],
                "ownership": rng.choices(
                    ["private", "state", "foreign", "mixed"], weights=[80, 8, 6, 6]
                )[0],
                "founded_on": date(1995, 1, 1) + timedelta(days=rng.randrange(0, 9000)),
                "buyer": buyer,
                "segment": segment,
                "product": rng.choice(products),
                "annual_value_cny_10k": (
                    None
                    if rng.random() < 0.25
                    else Decimal(round(rng.lognormvariate(7.0, 1.1), 2)).quantize(Decimal("0.01"))
                ),
                "since": since,
                "status": status,
                "until": since + timedelta(days=rng.randrange(200, 700))
                if status == "ended"
                else None,
                "verified": rng.random() < 0.6,
                "designation": rng.choices(
                    [None, "innovative_sme", "specialized_sme", "little_giant", "gazelle"],
                    weights=[60, 18, 14, 3, 5],
                )[0],
                "designation_year": rng.randrange(2021, 2026),
            }
        )
    return out


DESIGNATION_LEVEL = {
    "innovative_sme": "provincial",
    "specialized_sme": "provincial",
    "little_giant": "national",
    "gazelle": "provincial",
}


def load_fictional_suppliers(conn: Connection, report: Report) -> None:
    path = DIR / "demo.py (fictional suppliers)"
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    enterprises = enterprise_by_name(conn)
    segments = SegmentLookup(conn)
    verified_at = conn.execute(sql_text("SELECT timestamptz '2025-12-31 12:00+08'")).scalar()
    for item in fictional_suppliers():
        row = Row(path, item["n"], item)
        if merged_into(conn, item["uscc"]) is not None:
            # Merged into another enterprise, which now holds its roles and links.
            report.add(Enterprise.__tablename__, "unchanged")
            continue
        chain_id = chains("automotive", row, "chain")
        segment_id = segments(chain_id, item["segment"], row)
        supplier_id = upsert(
            conn,
            Enterprise.__table__,
            {"uscc": item["uscc"]},
            {
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "name_initials": name_initials(item["name_zh"]),
                "district_id": districts(item["district"], row, "district"),
                "region_code": item["region_code"],
                "size": item["size"],
                "ownership": item["ownership"],
                "founded_on": item["founded_on"],
                "notes": "演示用虚构企业（示例数据）",
            },
            report=report,
            row=row,
        )
        upsert(
            conn,
            ChainRole.__table__,
            {
                "enterprise_id": supplier_id,
                "chain_id": chain_id,
                "segment_id": segment_id,
                "role": "supplier",
            },
            {"since": item["since"], "until": item["until"], "notes": "示例数据"},
            report=report,
            row=row,
        )
        upsert(
            conn,
            SupplyLink.__table__,
            {
                "supplier_id": supplier_id,
                "buyer_id": enterprises(item["buyer"], row, "buyer"),
                "chain_id": chain_id,
                "product": item["product"],
                "since": item["since"],
            },
            {
                "segment_id": segment_id,
                "annual_value_cny_10k": item["annual_value_cny_10k"],
                "status": item["status"],
                "until": item["until"],
                "reported_by": REPORTED_BY,
                "verified": item["verified"],
                "verified_at": verified_at if item["verified"] else None,
                "notes": "示例数据",
            },
            report=report,
            row=row,
        )
        if item["designation"]:
            upsert(
                conn,
                Designation.__table__,
                {
                    "enterprise_id": supplier_id,
                    "type": item["designation"],
                    "level": DESIGNATION_LEVEL[item["designation"]],
                    "year": item["designation_year"],
                },
                {"valid_until": date(item["designation_year"] + 3, 12, 31), "notes": "示例数据"},
                report=report,
                row=row,
            )


# --- projects in review --------------------------------------------------------------------

# Fictional projects a district office has reported, so that the review lists have something:
# (name, chain, segment, district, signed on, agreed 亿元, [(action, opinion)]).
IN_REVIEW = [
    ("（演示）汽车电子线束配套项目", "automotive", "electronics.cockpit", "370112",
     date(2026, 11, 10), "6.5", [("submit", None)]),
    ("（演示）新能源汽车底盘部件项目", "automotive", "parts.chassis", "370102",
     date(2026, 10, 20), "3.2",
     [("submit", None), ("return", "请上传签约合同扫描件，并核实协议投资额。")]),
]  # fmt: skip


# Where their capital comes from, and the parts of the investment (fictional too).
TRADE: dict[str, dict[str, Any]] = {
    "（演示）汽车电子线束配套项目": {
        "capital_origin": "domestic", "first_phase_investment_cny_100m": Decimal("3.5"),
        "fixed_asset_investment_cny_100m": Decimal("5"),
    },
    "（演示）新能源汽车底盘部件项目": {
        "capital_origin": "foreign", "foreign_capital_usd_10k": Decimal("800"),
    },
}  # fmt: skip


def load_reviews(conn: Connection, report: Report) -> None:
    """The fictional projects in review: each created once, as a draft, then moved through its
    review steps (the review trigger checks each one, as for the offices)."""
    table = Project.__table__
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    conn.execute(sql_text("SELECT set_config('chaindb.actor', '演示数据', true)"))
    segments = SegmentLookup(conn)
    for name, chain, segment, district, signed_on, agreed, steps in IN_REVIEW:
        if conn.execute(select(table.c.id).where(table.c.name == name)).first() is not None:
            continue
        project_id = conn.execute(
            insert(table)
            .values(
                name=name, chain_id=(chain_id := chains(chain, None, "chain")),
                segment_id=segments(chain_id, segment, None),
                district_id=districts(district, None, "district"), investor_name="（演示）某投资方",
                stage="signed", signed_on=signed_on, agreed_investment_cny_100m=Decimal(agreed),
                review_status="draft", source="演示数据（虚构）", **TRADE.get(name, {}),
            )
            .returning(table.c.id)
        ).scalar_one()  # fmt: skip
        report.add(table.name, "created")
        for action, opinion in steps:
            conn.execute(
                sql_text(
                    "INSERT INTO project_review (project_id, action, opinion) VALUES (:p, :a, :o)"
                ),
                {"p": project_id, "a": action, "o": opinion},
            )
            report.add("project_review", "created")
    conn.execute(sql_text("SELECT set_config('chaindb.actor', '', true)"))


# --- leading chains (一区一主业) ----------------------------------------------------------------

# Illustrative only: the sources name no official list of each unit's leading chains. The demo
# gives two units some, so that the flag and the comparison show on the pages.
DEMO_LEADING = [("QBQ", "automotive"), ("370112", "high-end-software"), ("370112", "automotive")]
DEMO_LEADING_SOURCE = "演示数据（示意，非官方认定）"


def load_leading_chains(conn: Connection, report: Report) -> None:
    table = LeadingChain.__table__
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    for district, chain in DEMO_LEADING:
        upsert(
            conn, table,
            {"district_id": districts(district, None, "district"),
             "chain_id": chains(chain, None, "chain"), "since": None},
            {"source": DEMO_LEADING_SOURCE}, report=report,
        )  # fmt: skip


# --- the promotion work (招商线索, 洽谈记录, 外出招商) --------------------------------------------

# Fictional, all of it: the district office of 历城区 works leads for the automotive chain it
# leads on (one from the 补链 list, one met on a trip, one referred, one dropped, one signed as
# the demo project in review), with negotiations whose follow-ups fall due around the day the
# demo is loaded, so that "my follow-ups" and the counts have something to show.
DEMO_UNIT = "district-370112"
DEMO_SOURCE = "演示数据（虚构）"
DEMO_TRIP = "（演示）长三角汽车零部件招商之旅"

# (enterprise name, region, chain, segment, source, status, follow-up in days from the load,
# investment hoped for 亿元, dropped reason, [(days ago, place, content, next step, follow-up in
# days from the load)])
DEMO_LEADS: list[tuple[Any, ...]] = [
    ("（演示）苏州某汽车线束有限公司", "江苏省苏州市", "automotive", "electronics.cockpit",
     "gap_candidate", "negotiating", -2, "5", None,
     [(30, "苏州", "首次拜访，介绍历城区汽车电子配套需求和用地政策。", "报送项目意向书", -16),
      (16, "线上", "对方反馈意向书，关注厂房租金和链主订单量。", "组织与链主对接", -2)]),
    ("（演示）宁波某汽车座椅骨架公司", "浙江省宁波市", "automotive", "parts.interior",
     "trip", "contacted", 3, "3.5", None,
     [(39, "宁波", "外出招商拜访，对方有在北方设厂的计划。", "寄送园区资料", 3)]),
    ("（演示）杭州某工业软件公司", "浙江省杭州市", "high-end-software", None,
     "referral", "new", 10, None, None, []),
    ("（演示）某储能电池企业", "安徽省合肥市", "automotive", None,
     "event", "dropped", None, "20", "对方已选址外省（演示）", []),
]  # fmt: skip

# The signed one: the demo project in review, converted from this lead.
DEMO_SIGNED_LEAD = ("（演示）某投资方", "（演示）汽车电子线束配套项目")


def load_promotion(conn: Connection, report: Report) -> None:
    unit = conn.execute(select(Unit.id).where(Unit.code == DEMO_UNIT)).scalar()
    if unit is None:
        return  # a reference seed without the planning units' offices
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    segments = SegmentLookup(conn)
    today = conn.execute(select(sql_text("current_date"))).scalar_one()
    trip = upsert(
        conn, Trip.__table__, {"unit_id": unit, "title": DEMO_TRIP},
        {"kind": "trip", "starts_on": today - timedelta(days=40),
         "ends_on": today - timedelta(days=38), "destination": "上海、苏州、宁波",
         "leader": "（演示）区招商部门负责人", "participants": "（演示）招商一科 2 人",
         "notes": DEMO_SOURCE},
        report=report,
    )  # fmt: skip
    table = Lead.__table__
    for name, region, chain, segment, source, status, due, hoped, reason, talks in DEMO_LEADS:
        if conn.execute(
            select(table.c.id).where(table.c.unit_id == unit, table.c.enterprise_name == name)
        ).first():
            continue
        chain_id = chains(chain, None, "chain")
        lead = conn.execute(
            insert(table)
            .values(
                unit_id=unit, enterprise_name=name, region=region, chain_id=chain_id,
                segment_id=segments(chain_id, segment, None) if segment else None,
                source=source, status=status,
                next_follow_up_on=today + timedelta(days=due) if due is not None else None,
                expected_investment_cny_100m=Decimal(hoped) if hoped else None,
                dropped_reason=reason, trip_id=trip if source == "trip" else None,
                source_detail=DEMO_TRIP if source == "trip" else None, notes=DEMO_SOURCE,
            )
            .returning(table.c.id)
        ).scalar_one()  # fmt: skip
        report.add(table.name, "created")
        for days_ago, place, content, next_step, follow_up in talks:
            conn.execute(
                insert(Negotiation.__table__).values(
                    lead_id=lead, unit_id=unit, held_on=today - timedelta(days=days_ago),
                    place=place, our_participants="（演示）招商一科", content=content,
                    their_participants="（演示）对方投资总监", next_step=next_step,
                    next_follow_up_on=today + timedelta(days=follow_up),
                )
            )  # fmt: skip
            report.add("negotiation", "created")
        if source == "trip":
            conn.execute(
                insert(TripVisit.__table__).values(
                    trip_id=trip, enterprise_name=name, lead_id=lead,
                    visited_on=today - timedelta(days=39), notes=DEMO_SOURCE,
                )
            )  # fmt: skip
            report.add("trip_visit", "created")
    _signed_lead(conn, report, unit, chains)


def _signed_lead(conn: Connection, report: Report, unit: int, chains: Lookup) -> None:
    """The demo project in review, converted from a lead (the lead is signed by it)."""
    name, project_name = DEMO_SIGNED_LEAD
    project = conn.execute(
        select(Project.id, Project.lead_id, Project.chain_id).where(Project.name == project_name)
    ).first()
    if project is None or project.lead_id is not None:
        return
    lead = conn.execute(
        insert(Lead.__table__)
        .values(
            unit_id=unit, enterprise_name=name, chain_id=project.chain_id, source="trip",
            status="negotiating", source_detail=DEMO_TRIP, notes=DEMO_SOURCE,
        )
        .returning(Lead.__table__.c.id)
    ).scalar_one()  # fmt: skip
    report.add("lead", "created")
    conn.execute(update(Project.__table__).where(Project.id == project.id).values(lead_id=lead))


# --- targets per office and the chains' revenue ----------------------------------------------

# Fictional targets of this year for the demo district office and the automotive chain office,
# and a fictional revenue for three iconic chains last year (not official figures).
DEMO_TARGETS = [
    ("district-370112", None, "projects_signed", "count", "12"),
    ("district-370112", None, "investment_signed", "cny_100m", "150"),
    ("district-370112", None, "projects_started", "count", "6"),
    ("district-370112", None, "foreign_capital_used", "usd_10k", "3000"),
    ("chain-automotive", None, "investment_signed", "cny_100m", "500"),
]
DEMO_REVENUE = [("automotive", "1650"), ("high-end-software", "1420"), ("iron-steel", "1880")]
DEMO_TARGET_SOURCE = "演示数据（虚构目标，非官方）"


def load_progress(conn: Connection, report: Report) -> None:
    year = conn.execute(select(sql_text("extract(year FROM current_date)::int"))).scalar_one()
    for code, chain, metric, unit, value in DEMO_TARGETS:
        office = conn.execute(select(Unit.id).where(Unit.code == code)).scalar()
        if office is None:
            continue
        upsert(
            conn, Target.__table__,
            {"scope": "unit", "unit_id": office, "chain_id": chain, "district_id": None,
             "year": year, "metric": metric},
            {"unit": unit, "target_value": Decimal(value), "source": DEMO_TARGET_SOURCE},
            report=report,
        )  # fmt: skip
    known = set(conn.execute(select(Chain.code)).scalars())
    for code, revenue in DEMO_REVENUE:
        if code not in known:
            continue
        chain_id = conn.execute(select(Chain.id).where(Chain.code == code)).scalar_one()
        upsert(
            conn, ChainRevenue.__table__, {"chain_id": chain_id, "year": year - 1},
            {"revenue_cny_100m": Decimal(revenue), "source": DEMO_SOURCE,
             "notes": "演示用虚构营收，非统计数据"},
            report=report,
        )  # fmt: skip
