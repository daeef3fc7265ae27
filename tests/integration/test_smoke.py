def test_create_and_read_product(api, merchant, product):
    got = api.get(f"/v1/products/{product['id']}", key=merchant.secret)
    assert got.status_code == 200
    assert got.json == product
