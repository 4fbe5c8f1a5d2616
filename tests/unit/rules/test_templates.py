"""Templates run in Jinja2's sandbox with StrictUndefined; escapes and unknown names are refused."""

import pytest

from rules import InvalidTemplate
from rules.templates import SAMPLE_LINE, render, validate


@pytest.mark.parametrize("source", [
    "{{ agreement.__class__ }}",
    "{{ agreement.__class__.__mro__[1].__subclasses__() }}",
    "{% if false %}{{ period.__class__ }}{% endif %}",  # refused even on a branch the sample skips
    "{{ agreement['__class__'] }}",
    "{{ agreement|attr('__class__') }}",
    "{{ '{0.__class__}'.format(agreement) }}",
    "{{ self }}",
    "{{ 'x' * 100000000 }}",
    "{{ 2 ** 100000 }}",
    "{% for i in range(10000000) %}{% endfor %}",
    "{{ agreement.items.__globals__ }}",
])
def test_templates_that_reach_outside_the_sandbox_are_refused(source):
    with pytest.raises(InvalidTemplate, match="outside the sandbox"):
        validate("memo", source)


@pytest.mark.parametrize("source", ["{% import 'os' as os %}", "{% include 'secrets.txt' %}",
                                    "{% extends 'base.html' %}", "{% from 'x' import y %}"])
def test_templates_may_not_import_include_or_extend(source):
    with pytest.raises(InvalidTemplate, match="may not import, include or extend"):
        validate("private_note", source)


def test_an_unknown_variable_is_refused_with_its_name():
    with pytest.raises(InvalidTemplate, match="unknown variable 'customer'"):
        validate("memo", "Hello {{ customer }}")
    with pytest.raises(InvalidTemplate, match="has no attribute 'nmae'"):
        validate("memo", "Hello {{ agreement.nmae }}")


def test_globals_like_cycler_and_lipsum_are_not_available():
    with pytest.raises(InvalidTemplate, match="unknown variable 'lipsum'"):
        validate("memo", "{{ lipsum() }}")


def test_a_line_template_sees_the_line_and_its_default_text():
    validate("description", "{{ default }} ({{ line.hours }} h by {{ line.person }})", line=True)
    text = render("description", "{{ line.name }}: {{ line.amount|money }}", SAMPLE_LINE)
    assert text == "Overage: 1,125.00"


def test_an_invoice_template_cannot_use_line_variables():
    with pytest.raises(InvalidTemplate, match="unknown variable 'line'"):
        validate("memo", "{{ line.amount }}")


@pytest.mark.parametrize(("field", "limit"), [("memo", 1000), ("private_note", 4000), ("doc_number", 21)])
def test_rendered_text_must_fit_quickbooks_limits(field, limit):
    validate(field, "x" * limit)
    with pytest.raises(InvalidTemplate, match=f"QuickBooks allows {limit}"):
        validate(field, "x" * (limit + 1))


def test_a_description_may_be_up_to_4000_characters():
    validate("description", "{{ 'y' * 4000 }}", line=True)
    with pytest.raises(InvalidTemplate, match="renders 4001 characters"):
        validate("description", "{{ 'y' * 4001 }}", line=True)


def test_a_template_that_cannot_be_parsed_says_where():
    with pytest.raises(InvalidTemplate, match="cannot be read.*line 1"):
        validate("memo", "{{ agreement.name ")
