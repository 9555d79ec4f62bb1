"""The one vocabulary: members are their strings everywhere output is written."""
from __future__ import annotations

import json

import pytest

from corrcheck.config import RunConfig
from corrcheck.errors import ConfigError
from corrcheck.vocab import CONVENTION_CHOICES, LAYOUT_CHOICES, OP_CHOICES, TARGETS, Convention, LayoutName, Op, Status, Target


@pytest.mark.parametrize("member", [*Target, *Status, *Convention, *LayoutName, *Op])
def test_a_member_is_written_and_looked_up_as_its_plain_string(member):
    value = member.value
    assert member == value and hash(member) == hash(value) and {value: 1}[member] == 1
    assert str(member) == f"{member}" == "%s" % member == value
    assert f"{member:>12}" == f"{value:>12}"
    assert json.dumps({member: [member]}) == json.dumps({value: [value]})


def test_targets_keep_the_order_of_the_json_document():
    assert TARGETS == ("forward", "grad_input", "grad_filter", "grad_bias")


def test_every_convention_and_layout_is_a_valid_option_and_nothing_else_is():
    for name in CONVENTION_CHOICES:
        RunConfig(convention=name).validate()
    for name in LAYOUT_CHOICES:
        RunConfig(layout=name).validate()
    for name in OP_CHOICES:
        RunConfig(op=name).validate()
    with pytest.raises(ConfigError, match="--op must be one of correlate, convolve, transpose"):
        RunConfig(op="unpool").validate()
    with pytest.raises(ConfigError, match="--convention must be one of auto, functional"):
        RunConfig(convention="keras").validate()


def test_the_cli_offers_exactly_the_vocabulary():
    from corrcheck.cli import Convention as ConventionChoice, Layout as LayoutChoice, Op as OpChoice
    assert [c.value for c in ConventionChoice] == list(CONVENTION_CHOICES)
    assert [c.value for c in LayoutChoice] == list(LAYOUT_CHOICES)
    assert [c.value for c in OpChoice] == list(OP_CHOICES)
