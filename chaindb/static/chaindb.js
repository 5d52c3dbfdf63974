// Progressive enhancements; every page works without them.
"use strict";

// Enterprise pickers: suggestions as one types (Chinese name, pinyin initials, credit code).
function attachPicker(input) {
  const list = document.createElement("datalist");
  list.id = input.id + "-suggestions";
  input.setAttribute("list", list.id);
  input.after(list);
  let timer = null;
  let last = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q.length < 1 || q === last || /#\d+$/.test(q)) return;
      last = q;
      const url = "/pick/" + input.dataset.picker + "?q=" + encodeURIComponent(q);
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = await response.json();
      list.replaceChildren(...body.results.map((r) => {
        const option = document.createElement("option");
        option.value = r.value;
        option.label = [r.uscc, r.district].filter(Boolean).join(" · ");
        return option;
      }));
    }, 150);
  });
}

// A select of chain segments shows only the chosen chain's segments.
function linkSegments(chainSelect, segmentSelect) {
  const all = Array.from(segmentSelect.options);
  const filter = () => {
    const chain = chainSelect.options[chainSelect.selectedIndex];
    const prefix = chain && chain.value ? chain.text.split(" (")[0] + " · " : null;
    for (const option of all) {
      option.hidden = Boolean(prefix && option.value && !option.text.startsWith(prefix));
    }
  };
  chainSelect.addEventListener("change", filter);
  filter();
}

// Buttons that ask before they act (data-confirm holds the question).
function attachConfirm(element) {
  element.addEventListener("click", (event) => {
    if (!window.confirm(element.dataset.confirm)) event.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-picker]").forEach(attachPicker);
  document.querySelectorAll("[data-confirm]").forEach(attachConfirm);
  document.querySelectorAll("select[data-segments-of]").forEach((segment) => {
    const chain = document.getElementById(segment.dataset.segmentsOf);
    if (chain) linkSegments(chain, segment);
  });
});

// On a narrow screen the menu folds behind a button (without script it stays open).
function attachMenu(toggle) {
  const bar = toggle.closest(".bar");
  document.documentElement.classList.add("js");
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = bar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  if (toggle) attachMenu(toggle);
});
