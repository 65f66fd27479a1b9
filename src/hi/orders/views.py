"""Console pages of the orders hub: the live list, an order's page with its actions, and a hand-made order."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hi.integrations.api import Integration, actor_of, count_by_status, newest_page, partial, status_options
from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from . import actions, api, panels
from .errors import ActionRefused
from .forms import ItemFormSet, ManualOrderForm, ReasonForm, order_data
from .models import STATUS_TIMESTAMPS, Order, OrderStatus
from .queries import MANUAL, Filters, order_for

PAGE_SIZE = 50


@workspace_required()
def order_list(request: HttpRequest) -> HttpResponse:
    """The workspace's orders, newest first, filtered and paginated; htmx polls only the table."""
    sources = list(Integration.objects.filter(workspace=request.workspace).order_by("name"))
    filters = Filters.from_request(request, {str(s.pk) for s in sources})
    everything = Order.objects.filter(workspace=request.workspace)
    shown = filters.apply(everything).select_related("source")
    page, query = newest_page(request, shown, PAGE_SIZE)
    counts = count_by_status(filters.apply(everything, with_status=False))
    context = {
        "page": page,
        "filters": filters,
        "total": sum(counts.values()),
        "status_options": status_options(OrderStatus, counts),
        "sources": sources,
        "manual": MANUAL,
        "query": query,
    }
    return render(request, partial(request, "orders/list.html", "table"), context)


def detail_context(order: Order) -> dict:
    """Everything the order page and its live region show."""
    timeline = [
        {"status": s, "at": getattr(order, STATUS_TIMESTAMPS[s.value])}
        for s in OrderStatus
        if getattr(order, STATUS_TIMESTAMPS[s.value]) is not None
    ]
    return {
        "order": order,
        "items": order.items.all(),
        "timeline": timeline,
        "history": order.history.select_related("integration")[:100],
        "actions": actions.available(order),
        "live": not order.is_terminal or bool(order.awaiting_label),
        "acts_through_source": actions.source_gateway(order) is not None,
    }


@workspace_required()
def order_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """One order: items, totals, customer, status, history and the actions allowed now."""
    order = order_for(request, ref)
    context = detail_context(order)
    if not request.htmx:  # the live region's refresh does not need them
        context["panels"] = panels.rendered(request, order)
    return render(request, partial(request, "orders/detail.html", "live"), context)


@require_http_methods(["GET", "POST"])
@workspace_required(Role.OPERATOR)
def order_action(request: HttpRequest, ref: str, key: str) -> HttpResponse:
    """Run one action; one that needs a reason first shows a form whose choices come from the order's source."""
    order = order_for(request, ref)
    try:
        action = actions.find(order, key)
    except ActionRefused as exc:
        messages.error(request, str(exc))
        return redirect(order)
    if not action.needs_reason:
        if request.method == "POST":
            try:
                messages.success(request, actions.perform(order, key, actor=actor_of(request)))
            except ActionRefused as exc:
                messages.error(request, str(exc))
        return redirect(order)
    form, status, problem = ReasonForm(choices=[]), 200, ""
    try:
        reasons = actions.choices(order, action)
    except ActionRefused as exc:
        problem = str(exc)  # the reasons could not be loaded: shown above an empty form
        reasons = None
    if reasons is not None:
        form = ReasonForm(request.POST if request.method == "POST" else None, choices=reasons)
        if request.method == "POST" and form.is_valid():
            try:
                text = actions.perform(order, key, actor=actor_of(request), reason=form.cleaned_data["reason"], reasons=reasons)
            except ActionRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, text)
                return redirect(order)
        if request.method == "POST" and form.errors:
            status = 422 if request.htmx else 200
    return render(request, "orders/action.html", {"order": order, "action": action, "form": form, "problem": problem}, status=status)


@require_http_methods(["GET", "POST"])
@workspace_required(Role.OPERATOR)
def order_new(request: HttpRequest) -> HttpResponse:
    """Create an order by hand: items, customer, fees; totals are computed, and the order starts as new."""
    posted = request.POST if request.method == "POST" else None
    form = ManualOrderForm(posted)
    items = ItemFormSet(posted, prefix="items")
    if request.method == "POST" and form.is_valid() and items.is_valid():
        lines = [line for line in (f.item() for f in items.forms) if line is not None]
        try:
            data = order_data(form, lines)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            order, _ = api.create_order(request.workspace, data, source=None, actor=actor_of(request))
            messages.success(request, f"Order {order.ref} was created; it is new. Use the actions below to move it on.")
            return redirect(order)
    return render(request, "orders/new.html", {"form": form, "items": items})
