from engine import Value


def test_square_gradient_is_two_x():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
