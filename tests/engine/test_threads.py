"""Grad mode is per thread, as in PyTorch, and every exit restores the right mode."""

import sys
import threading

import numpy as np

import engine
import nn
from engine import Value, enable_grad, grad, gradcheck, no_grad


def run_in_thread(function):
    """function() in a new thread; its result, or its exception re-raised here."""
    outcome = {}

    def target():
        try:
            outcome["result"] = function()
        except BaseException as error:  # noqa: B036 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def test_no_grad_in_one_thread_leaves_another_thread_recording():
    entered, checked = threading.Event(), threading.Event()

    def evaluate():
        with no_grad():
            entered.set()
            checked.wait(timeout=10)

    thread = threading.Thread(target=evaluate)
    thread.start()
    try:
        assert entered.wait(timeout=10)
        assert engine.is_grad_enabled()
        assert (Value(1.0) * 2.0).op == "mul"
    finally:
        checked.set()
        thread.join()


def test_a_new_thread_starts_with_gradients_enabled_even_inside_no_grad():
    with no_grad():
        assert run_in_thread(engine.is_grad_enabled) is True
        assert run_in_thread(lambda: (Value(1.0) + 1.0).op) == "add"


def test_two_threads_training_their_own_networks_get_the_single_thread_costs():
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [1.0, 1.0]])
    y = np.array([0, 1, 0, 1])

    def costs():
        net = nn.MLP(2, [3, 1], seed=4)
        return nn.fit(net, X, y, epochs=100, progress=False).cost

    expected = costs()
    results = [None, None]

    def train(i):
        results[i] = costs()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so that their steps interleave
    try:
        threads = [threading.Thread(target=train, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        # Meanwhile this thread spends its time inside no_grad.
        while any(thread.is_alive() for thread in threads):
            with no_grad():
                for _ in range(100):
                    Value(1.0) * 2.0
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert results == [expected, expected]


def test_contexts_left_out_of_order_restore_grad_mode_after_the_last():
    a, b = no_grad(), no_grad()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert not engine.is_grad_enabled()  # b is still open
    b.__exit__(None, None, None)
    assert engine.is_grad_enabled()


def test_enable_grad_left_before_an_inner_no_grad_leaves_the_inner_mode():
    outer, inner = enable_grad(), no_grad()
    with no_grad():
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)
        assert not engine.is_grad_enabled()
        inner.__exit__(None, None, None)
        assert not engine.is_grad_enabled()  # the first no_grad is still open
    assert engine.is_grad_enabled()


def test_the_same_no_grad_object_entered_twice_restores_on_the_last_exit():
    context = no_grad()
    with context:
        with context:
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()


def test_enable_grad_records_inside_no_grad():
    with no_grad():
        with enable_grad():
            assert (Value(1.0) * 2.0).op == "mul"
        assert (Value(1.0) * 2.0).op == ""


def test_grad_with_create_graph_records_its_graph_inside_no_grad():
    x = Value(2.0, label="x")
    y = x ** 3
    with no_grad():
        (dy_dx,) = grad(y, x, create_graph=True)
    assert dy_dx.data == 12.0      # 3x²
    assert grad(dy_dx, x) == (12.0,)  # 6x: the derivative has a graph of its own


def test_gradcheck_of_a_derivative_function_agrees():
    # f(x) = d(x³)/dx = 3x²; its own derivative is 6x. The finite differences
    # must see the derivative change with x, not a constant.
    x = Value(1.5, label="x")
    report = gradcheck(lambda x: grad(x ** 3, x, create_graph=True)[0], [x])
    assert report
    assert abs(report.rows[0].analytic - 9.0) < 1e-12


def test_gradcheck_called_inside_no_grad_checks_the_real_gradient():
    x = Value(0.7, label="x")
    with no_grad():
        report = gradcheck(lambda x: x * x.tanh(), [x])
        assert not engine.is_grad_enabled()  # and the caller's mode is kept
    assert report
    assert report.rows[0].analytic != 0.0
