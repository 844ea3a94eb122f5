// A shop page using the tracker: page views, a signup sent twice, a purchase, one purchase the
// gateway refuses, and feature events still queued when the page goes away.
(() => {
  const params = new URLSearchParams(location.search);
  const visitor = params.get("visitor");
  const user = `user-${visitor}`;
  const rejected = [];
  const errors = [];
  const tracker = new Accord.Tracker({
    endpoint: params.get("gateway"),
    writeKey: params.get("key"),
    batchSize: 4,
    flushIntervalMs: 60000,
    onRejected: (r) => rejected.push({ code: r.code, field: r.field, eventId: r.eventId }),
    onError: (e) => errors.push({ code: e.code, message: e.message }),
  });
  const context = { platform: "WEB", user_agent: navigator.userAgent, library_name: "accord-sdk-ts" };
  const tracked = [];
  function track(event) {
    tracker.track(event);
    tracked.push(event.payload.envelope.event_id);
    return event;
  }

  async function run() {
    for (let i = 0; i < 9; i++) {
      track(Accord.events.pageView({ envelope: { anonymous_id: visitor, context }, url: `${location.origin}/p/${i}`, title: `Page ${i}` }));
    }
    const signup = track(Accord.events.signup({ envelope: { user_id: user, anonymous_id: visitor, context }, method: "EMAIL" }));
    tracker.track(signup); // sent twice, kept once
    track(
      Accord.events.purchase({
        envelope: { user_id: user, context },
        order_id: `order-${visitor}`,
        amount: "99.90",
        currency: "EUR",
        items: [{ sku: "sku-1", quantity: 2, unit_price: "49.95" }],
      }),
    );
    const refused = Accord.events.purchase({ envelope: { user_id: user, context }, order_id: "refused", amount: "12.345", currency: "EUR" });
    tracker.track(refused);
    await tracker.flush();
    const queued = [0, 1, 2].map((i) =>
      track(Accord.events.featureUsed({ envelope: { user_id: user, context }, feature: `feature_${i}`, properties: { step: String(i) } })),
    );
    return {
      tracked,
      refused: refused.payload.envelope.event_id,
      queued: queued.map((event) => event.payload.envelope.event_id),
      pendingAtHide: tracker.pending,
      rejected,
      errors,
    };
  }

  run().then(
    (result) => { window.accordResult = result; },
    (error) => { window.accordResult = { error: String(error) }; },
  );
})();
