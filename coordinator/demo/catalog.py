"""What the demo stations look like: four pilot communities of Kaili and their organizations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStation:
    code: str
    name: str
    short_name: str  # how people say it: 营盘坡社区, 南花村
    address: str
    is_village: bool  # a rural village: no migrant families, more elderly and left-behind children
    organizations: tuple[tuple[str, str], ...]  # (name, kind)
    party_branches: tuple[str, ...]  # the first is the station's own branch
    venues: tuple[str, ...]  # the first hosts most activities
    miao_share: float  # share of volunteers and residents who speak 苗语
    dong_share: float
    volunteers: int
    residents: int


STATIONS: tuple[DemoStation, ...] = (
    DemoStation(
        code="kl-yingpanpo",
        name="大十字街道营盘坡社区社工站",
        short_name="营盘坡社区",
        address="贵州省黔东南州凯里市大十字街道营盘坡社区",
        is_village=False,
        organizations=(
            ("营盘坡儿童议事会", "children_committee"),
            ("营盘坡老年协会", "elders_association"),
            ("营盘坡党员先锋队", "party_vanguard"),
            ("四点半课堂志愿队", "tutoring_team"),
            ("银龄互助队", "elders_mutual_aid"),
        ),
        party_branches=(
            "营盘坡社区党支部",
            "营盘坡社区退休党员党支部",
            "大十字街道机关党支部",
        ),
        venues=(
            "营盘坡社区党群服务中心",
            "营盘坡社区新时代文明实践站",
            "营盘坡社区儿童之家",
        ),
        miao_share=0.35,
        dong_share=0.08,
        volunteers=56,
        residents=260,
    ),
    DemoStation(
        code="kl-shaoshan",
        name="西门街道韶山社区社工站",
        short_name="韶山社区",
        address="贵州省黔东南州凯里市西门街道韶山社区",
        is_village=False,
        organizations=(
            ("韶山社区妇女互助小组", "womens_group"),
            ("韶山老年协会", "elders_association"),
            ("阳光助残协会", "disability_support"),
            ("韶山青年志愿服务队", "youth_volunteers"),
        ),
        party_branches=(
            "韶山社区党支部",
            "韶山社区第二党支部",
            "西门街道机关党支部",
        ),
        venues=(
            "韶山社区党群服务中心",
            "韶山社区日间照料中心",
            "韶山社区文化广场",
        ),
        miao_share=0.30,
        dong_share=0.12,
        volunteers=50,
        residents=230,
    ),
    DemoStation(
        code="kl-kaihuai",
        name="开怀街道龙井社区社工站",
        short_name="龙井社区",
        address="贵州省黔东南州凯里市开怀街道龙井社区",
        is_village=False,
        organizations=(
            ("龙井儿童议事会", "children_committee"),
            ("龙井文艺队", "arts_team"),
            ("龙井党员志愿服务队", "party_vanguard"),
            ("爱心厨房", "community_kitchen"),
        ),
        party_branches=(
            "龙井社区党支部",
            "龙井社区退休党员党支部",
            "开怀街道机关党支部",
        ),
        venues=(
            "龙井社区党群服务中心",
            "龙井社区爱心厨房",
            "龙井社区儿童之家",
        ),
        miao_share=0.45,
        dong_share=0.10,
        volunteers=46,
        residents=220,
    ),
    DemoStation(
        code="kl-nanhua",
        name="三棵树镇南花村社工站",
        short_name="南花村",
        address="贵州省黔东南州凯里市三棵树镇南花村",
        is_village=True,
        organizations=(
            ("南花芦笙队", "heritage_team"),
            ("南花苗绣传习小组", "heritage_team"),
            ("南花老年协会", "elders_association"),
            ("南花留守儿童之家", "children_committee"),
        ),
        party_branches=(
            "南花村党支部",
            "三棵树镇机关党支部",
        ),
        venues=(
            "南花村村委会",
            "南花村芦笙场",
            "南花村留守儿童之家",
        ),
        miao_share=0.85,
        dong_share=0.03,
        volunteers=48,
        residents=250,
    ),
)
