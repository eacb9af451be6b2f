"""Realistic Chinese personal data for the demo: names, ID numbers and mobile numbers.

Everything is drawn from a caller-supplied :class:`random.Random`, so the same seed always
gives the same people.
"""

from __future__ import annotations

import datetime as dt
import random

# The most common surnames, weighted roughly by their share of the population (per mille).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 73), ("李", 72), ("张", 69), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 24),
    ("赵", 23), ("吴", 21), ("周", 21), ("徐", 17), ("孙", 15), ("马", 15), ("朱", 14),
    ("胡", 13), ("郭", 13), ("何", 12), ("高", 12), ("林", 12), ("罗", 12), ("郑", 11),
    ("梁", 10), ("谢", 8), ("宋", 8), ("唐", 8), ("许", 7), ("韩", 7), ("冯", 7), ("邓", 7),
    ("曹", 7), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 6), ("董", 6), ("袁", 5), ("潘", 5),
    ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 5), ("叶", 5), ("程", 5), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 4),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("方", 3), ("邹", 2), ("熊", 2), ("孟", 2),
    ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2),
    ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2),
    ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2), ("覃", 1), ("武", 1),
    ("欧阳", 1), ("诸葛", 1), ("司马", 1),
)  # fmt: skip

# Characters common in given names, by the sex the name usually suggests, and by generation:
# people born before about 1965 often carry names of their time (建国, 秀英, 桂兰).
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋振博文晨毅"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕红琳婷雪颖倩洁晶慧莉萍琴兰梅云佳欣悦妍怡璐"
NEUTRAL_CHARS = "晓海永春一思嘉天志国新家佳安德泽宏庆成建"
OLD_MALE_NAMES = (
    "建国", "建华", "国强", "国庆", "志强", "德明", "卫东", "振华", "福生", "长林", "金海",
    "保国", "文斌", "永年", "树林", "荣华", "东升",
)  # fmt: skip
OLD_FEMALE_NAMES = (
    "秀英", "桂兰", "玉兰", "秀兰", "桂英", "凤英", "淑珍", "玉珍", "秀珍", "翠花", "美华",
    "素芬", "丽华", "月娥", "金凤", "桂芳",
)  # fmt: skip
CHILD_MALE_CHARS = "梓浩宇轩睿泽辰铭子涵一诺皓晨博文俊熙嘉懿安奕"
CHILD_FEMALE_CHARS = "梓涵欣怡语诗雨桐可馨一诺子萱思彤梦琪若汐依晨"

# The 17 weights and the check characters of GB 11643-1999 (the resident ID number).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# Mobile number prefixes of the three carriers (2010s allocations).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "198", "199",
)  # fmt: skip

_SURNAME_LIST = [name for name, _weight in SURNAMES]
_SURNAME_WEIGHTS = [weight for _name, weight in SURNAMES]


def pick_surname(rng: random.Random) -> str:
    """A surname drawn by how common it is."""
    return rng.choices(_SURNAME_LIST, weights=_SURNAME_WEIGHTS, k=1)[0]


def given_name(rng: random.Random, *, male: bool, birth_year: int) -> str:
    """A one- or two-character given name fitting the person's sex and generation."""
    if birth_year < 1965 and rng.random() < 0.6:
        return rng.choice(OLD_MALE_NAMES if male else OLD_FEMALE_NAMES)
    if birth_year >= 2008:
        pool = CHILD_MALE_CHARS if male else CHILD_FEMALE_CHARS
    else:
        pool = (MALE_CHARS if male else FEMALE_CHARS) + NEUTRAL_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    first = rng.choice(pool)
    second = rng.choice(pool)
    while second == first:
        second = rng.choice(pool)
    return first + second


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def id_number_valid(number: str) -> bool:
    """Whether an 18-character ID number has the right shape and check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return id_check_character(number[:17]) == number[17].upper()


def id_number(rng: random.Random, *, region: str, birth_date: dt.date, male: bool) -> str:
    """A valid ID number: region code, birth date, sequence (odd for men) and check."""
    sequence = rng.randrange(0, 1000)
    if (sequence % 2 == 1) != male:
        sequence = (sequence + 1) % 1000
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
