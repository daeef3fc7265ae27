def test_connect_and_list_accounts(api, merchant):
    created = api.post(
        "/v1/connections",
        {"platform": "instagram", "account_id": "17841400000000000"},
        key=merchant.secret,
    )
    assert created.status_code == 201, created.body
    assert created.json["platform"] == "instagram"
    assert created.json["id"].startswith("conn_")
    listed = api.get("/v1/connections", key=merchant.secret).json
    assert [c["id"] for c in listed["data"]] == [created.json["id"]]


def test_an_account_belongs_to_one_merchant_only(api, rt, merchant, other_merchant):
    body = {"platform": "tiktok", "account_id": "7494726673780148744"}
    assert api.post("/v1/connections", body, key=merchant.secret).status_code == 201
    taken = api.post("/v1/connections", body, key=other_merchant.secret)
    assert taken.status_code == 409
    assert taken.json["error"]["code"] == "connection_exists"
    assert api.get("/v1/connections", key=other_merchant.secret).json["data"] == []
    owner = rt.connection_store.for_account("tiktok", "7494726673780148744")
    assert owner.merchant_id == merchant.merchant.id


def test_the_same_account_id_on_two_platforms_is_two_connections(api, merchant):
    for platform in ("instagram", "facebook"):
        body = {"platform": platform, "account_id": "1234567890"}
        assert api.post("/v1/connections", body, key=merchant.secret).status_code == 201


def test_unknown_platforms_and_odd_account_ids_are_rejected(api, merchant):
    for body, param in [
        ({"platform": "myspace", "account_id": "1"}, "platform"),
        ({"platform": "x", "account_id": "a b"}, "account_id"),
        ({"platform": "x", "account_id": ""}, "account_id"),
        ({"platform": "x"}, "account_id"),
    ]:
        response = api.post("/v1/connections", body, key=merchant.secret)
        assert response.status_code == 422
        assert response.json["error"]["param"] == param
