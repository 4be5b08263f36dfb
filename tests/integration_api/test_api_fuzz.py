"""Whatever JSON a client sends, the API answers in its error shape (or takes it): never a 500,
never an answer that is not JSON."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration_api.conftest import Api, sale_body

values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3), max_leaves=10)
FIELDS = [*sale_body("T", "B"), "code", "amount_fen", "bill_no", "kind"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/sales", "/v1/refunds", "/v1/quotes", "/v1/members/lookup",
                             "/v1/payments"]),
       body=st.dictionaries(st.sampled_from(FIELDS), values, max_size=8) | values)
def test_any_json_is_answered_in_the_error_shape_never_a_500(api: Api, path: str,
                                                             body: object) -> None:
    r = api.post(path, body)
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert set(r.json()) >= {"error", "message"}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(list(sale_body("T", "B"))), value=values)
def test_a_sale_with_one_field_of_anything_is_taken_or_refused_cleanly(
        api: Api, field: str, value: object) -> None:
    body = {**sale_body(f"T-{field}", f"B-{abs(hash(repr(value))) % 10**9}"), field: value}
    r = api.post("/v1/sales", body)
    assert r.status_code < 500, r.text
