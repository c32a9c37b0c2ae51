// The layout checks of tests/browser/test_layout.py, run in the page: `page.evaluate(LAYOUT_JS, ends)`.
// For each `[data-case]` (one message in a column as wide as Slack's): no rendered element wider than its box
// (scrollWidth > clientWidth), none outside its message, the message inside the column; every button (but a
// closed confirm dialog's) visible, and, scrolled to, inside the viewport and its message and not covered; every
// end of a cut text in `ends[caseId]` in the message's rendered text (innerText: what is on screen).
// Returns {problems: [text], buttons: {caseId: count}}.
(ends) => {
  const EPS = 0.5; // px: sub-pixel rounding
  const problems = [];
  const buttons = {};
  const inside = (r, box) =>
    r.left >= box.left - EPS && r.right <= box.right + EPS && r.top >= box.top - EPS && r.bottom <= box.bottom + EPS;
  const rendered = (el) => el.getClientRects().length > 0 && !el.closest("dialog:not([open])");
  const describe = (el) => {
    const cls = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "";
    const text = (el.textContent || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${cls}> ${JSON.stringify(text)}`;
  };
  const px = (r) => `${Math.round(r.left)}..${Math.round(r.right)} x ${Math.round(r.top)}..${Math.round(r.bottom)}`;

  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`page: ${root.scrollWidth} px wide in a ${root.clientWidth} px viewport`);
  }
  for (const kase of document.querySelectorAll("[data-case]")) {
    const id = kase.dataset.case;
    const messages = [...kase.querySelectorAll(".nb-message")];
    if (messages.length === 0) problems.push(`${id}: no message`);
    buttons[id] = 0;
    for (const message of messages) {
      const column = kase.getBoundingClientRect();
      const box = message.getBoundingClientRect();
      if (!inside(box, column)) problems.push(`${id}: the message (${px(box)}) leaves its column (${px(column)})`);
      for (const el of [message, ...message.querySelectorAll("*")]) {
        if (!rendered(el)) continue;
        if (el.scrollWidth > el.clientWidth) {
          problems.push(`${id}: ${describe(el)} overflows: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
        }
        const r = el.getBoundingClientRect();
        if (el !== message && !inside(r, box)) {
          problems.push(`${id}: ${describe(el)} (${px(r)}) leaves its message (${px(box)})`);
        }
      }
      for (const button of message.querySelectorAll(".nb-button")) {
        if (button.closest("dialog")) continue; // a confirm dialog's choices show when it opens
        buttons[id] += 1;
        if (!button.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) {
          problems.push(`${id}: button ${describe(button)} is not visible`);
          continue;
        }
        button.scrollIntoView({ block: "center", inline: "nearest" });
        const r = button.getBoundingClientRect();
        const now = message.getBoundingClientRect();
        if (!inside(r, { left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight })) {
          problems.push(`${id}: button ${describe(button)} (${px(r)}) is outside the viewport`);
        } else if (!inside(r, now)) {
          problems.push(`${id}: button ${describe(button)} (${px(r)}) is outside its message (${px(now)})`);
        } else {
          const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
          if (!button.contains(hit)) problems.push(`${id}: button ${describe(button)} is covered by ${hit && describe(hit)}`);
        }
      }
    }
    const shown = kase.innerText;
    for (const end of ends[id] || []) {
      if (!shown.includes(end)) problems.push(`${id}: the cut text ending ${JSON.stringify(end)} is not on screen`);
    }
  }
  window.scrollTo(0, 0);
  return { problems, buttons };
}
