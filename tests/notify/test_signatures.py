"""The signing code reproduces the worked examples published in the providers' documentation."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from coordinator.notify.channels import sms_aliyun, sms_tencent

# Aliyun's SendSms signature example (AccessKeyId testId, AccessKeySecret testSecret).
ALIYUN_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
ALIYUN_CANONICAL = (
    "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
    "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95"
    "%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466"
    "&SignatureVersion=1.0&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
    "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
)

# Tencent Cloud's TC3-HMAC-SHA256 example (CVM DescribeInstances, POST JSON).
TC3_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TC3_TIMESTAMP = 1551113065
TC3_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
TC3_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


def test_aliyun_canonical_query_matches_documented_example() -> None:
    assert sms_aliyun.canonical_query(ALIYUN_EXAMPLE) == ALIYUN_CANONICAL
    assert sms_aliyun.string_to_sign(ALIYUN_EXAMPLE).startswith(
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms"
    )


def test_aliyun_signature_matches_documented_example() -> None:
    assert sms_aliyun.signature(ALIYUN_EXAMPLE, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_percent_encoding_follows_rfc3986() -> None:
    assert sms_aliyun.percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_aliyun_phone_drops_only_the_mainland_prefix() -> None:
    assert sms_aliyun.aliyun_phone("+8613812345678") == "13812345678"
    assert sms_aliyun.aliyun_phone("+85291234567") == "85291234567"


def test_tc3_canonical_request_matches_documented_example() -> None:
    canonical = sms_tencent.canonical_request(host="cvm.tencentcloudapi.com", payload=TC3_PAYLOAD)
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )


def test_tc3_signature_matches_documented_example() -> None:
    header = sms_tencent.authorization(
        secret_id=TC3_SECRET_ID,
        secret_key=TC3_SECRET_KEY,
        host="cvm.tencentcloudapi.com",
        timestamp=TC3_TIMESTAMP,
        payload=TC3_PAYLOAD,
        service="cvm",
    )
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tc3_credential_date_is_the_utc_date() -> None:
    # 00:44 on 2019-02-26 in Beijing is still 2019-02-25 in UTC.
    assert sms_tencent.credential_scope(TC3_TIMESTAMP) == "2019-02-25/sms/tc3_request"


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=6))
def test_aliyun_string_to_sign_equals_encoding_the_canonical_query_twice(params: dict[str, str]) -> None:
    canonical = sms_aliyun.canonical_query(params)
    expected = "POST&%2F&" + sms_aliyun.percent_encode(canonical)
    assert sms_aliyun.string_to_sign(params, "POST") == expected


@given(st.text())
def test_aliyun_percent_encoding_is_rfc_3986_quoting(value: str) -> None:
    assert sms_aliyun.percent_encode(value) == quote(value, safe="~")
