/* The pattern explorer's graph: a pattern's neighbourhood in the interaction graph, drawn with Cytoscape.js.
 *
 * Markup it looks for (the page loads vendor/cytoscape.min.js before this file):
 *   <div id="pattern-graph" data-elements-url="/api/patterns/conformity/graph" data-pattern-url="/patterns/{id}"></div>
 * data-elements-url answers humanllm.viewer._graph_data.neighbourhood() as JSON and takes ?radius=N;
 * data-pattern-url is where a tapped neighbour leads, {id} replaced by its id (URL-encoded).
 * Optional: data-radius (1 by default) and data-max-radius (2 by default) for the radius selector.
 *
 * Everything from the data (names, rationales, relation types) is written with textContent, never as HTML.
 * window.patternGraph is the Cytoscape instance (tests and the console use it); the container's
 * data-state is "loading", "ready" or "error".
 */
(function () {
  "use strict";

  var RELATIONS = {
    reinforces: { colour: "#2e7d32", text: "reinforces: each makes the other stronger" },
    tension: { colour: "#ef6c00", text: "tension: two pulls inside one person" },
    clash: { colour: "#c62828", text: "clash: sets two people against each other" },
    modulates: { colour: "#1565c0", text: "modulates: changes how the other shows (arrow)" },
    excludes: { colour: "#757575", text: "excludes: not one character (dashed)" },
    not_same_character: { colour: "#8e24aa", text: "not the same character: twin constructs (dashed)" }
  };
  var FAMILIES = {
    cognitive_bias: "#4e79a7",
    social_influence: "#f28e2b",
    evolutionary: "#59a14f",
    motivational: "#b07aa1",
    extraversion: "#edc948",
    agreeableness: "#76b7b2",
    conscientiousness: "#9c755f",
    emotional_stability: "#ff9da7",
    openness: "#17becf"
  };
  var OTHER_COLOUR = "#bab0ac";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function words(value) {
    return String(value || "").replace(/_/g, " ");
  }

  function relationColour(kind) {
    return (RELATIONS[kind] || { colour: OTHER_COLOUR }).colour;
  }

  function familyColour(family) {
    return FAMILIES[family] || OTHER_COLOUR;
  }

  function styles() {
    return [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "background-color": function (n) { return familyColour(n.data("family")); },
          shape: function (n) { return n.data("kind") === "trait" ? "round-rectangle" : "ellipse"; },
          width: 22,
          height: 22,
          "font-size": 9,
          "text-wrap": "wrap",
          "text-max-width": 90,
          "text-valign": "bottom",
          "text-margin-y": 3,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.75,
          "text-background-padding": 1,
          color: "#222222",
          "border-width": 1,
          "border-color": "#ffffff"
        }
      },
      { selector: "node[distance = 1]", style: { width: 26, height: 26, "font-size": 11 } },
      { selector: "node[distance > 1]", style: { "font-size": 10 } },
      {
        selector: "node[?centre]",
        style: { width: 40, height: 40, "font-size": 12, "font-weight": "bold", "border-width": 3, "border-color": "#222222" }
      },
      {
        selector: "edge",
        style: {
          width: 2,
          "curve-style": "bezier",
          "line-color": function (e) { return relationColour(e.data("relation")); },
          "target-arrow-color": function (e) { return relationColour(e.data("relation")); },
          opacity: 0.8
        }
      },
      { selector: "edge[?constraint]", style: { "line-style": "dashed", "line-dash-pattern": [6, 4] } },
      { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle", "arrow-scale": 0.9 } },
      { selector: "edge.pg-active", style: { width: 5, opacity: 1, "z-index": 10 } },
      { selector: "edge.pg-hidden", style: { display: "none" } },
      { selector: "node.pg-active", style: { "border-width": 3, "border-color": "#222222" } }
    ];
  }

  /* Cytoscape adds an inline <style> (its container's `position: relative`) unless an element with this id
   * exists. explorer.css holds that rule, and a page served with a strict Content-Security-Policy (no inline
   * styles) would refuse the inline one and log an error: mark it as present. */
  function quietCytoscapeStylesheet() {
    var id = "__________cytoscape_stylesheet";
    if (document.getElementById(id)) return;
    var marker = document.createElement("template");
    marker.id = id;
    document.head.appendChild(marker);
  }

  /* Which circle of the concentric layout each node sits on (higher: nearer the middle): one circle per hop,
   * and a crowded ring (more than RING_MAX nodes) split over two staggered circles, so that the drawing
   * stays small enough for its labels to be read. Nodes come closest-first from the server. */
  var RING_MAX = 24;
  function circlesFor(nodes, rings) {
    var counts = {};
    nodes.forEach(function (n) { var d = n.data.distance || 0; counts[d] = (counts[d] || 0) + 1; });
    var seen = {};
    var out = {};
    nodes.forEach(function (n) {
      var d = n.data.distance || 0;
      var index = seen[d] || 0;
      seen[d] = index + 1;
      var outer = counts[d] > RING_MAX && index % 2 === 1 ? 1 : 0;
      out[n.data.id] = 2 * (rings - d) + 1 - outer;
    });
    return out;
  }

  function Explorer(container) {
    this.container = container;
    this.elementsUrl = container.getAttribute("data-elements-url");
    this.patternUrl = container.getAttribute("data-pattern-url") || "";
    this.radius = parseInt(container.getAttribute("data-radius") || "1", 10) || 1;
    this.maxRadius = parseInt(container.getAttribute("data-max-radius") || "2", 10) || 2;
    this.cy = null;
    this.build();
  }

  Explorer.prototype.build = function () {
    var c = this.container;
    c.classList.add("pg-root");
    c.textContent = "";
    var toolbar = el("div", "pg-toolbar");
    var label = el("label", "pg-radius-label", "Hops from the pattern ");
    this.select = el("select", "pg-radius");
    for (var r = 1; r <= this.maxRadius; r++) {
      var option = el("option", null, String(r));
      option.value = String(r);
      if (r === this.radius) option.selected = true;
      this.select.appendChild(option);
    }
    label.appendChild(this.select);
    toolbar.appendChild(label);
    this.status = el("span", "pg-status");
    this.status.setAttribute("role", "status");
    toolbar.appendChild(this.status);
    this.canvas = el("div", "pg-canvas");
    this.panel = el("aside", "pg-panel");
    this.panel.setAttribute("aria-live", "polite");
    this.legend = el("div", "pg-legend");
    c.appendChild(toolbar);
    c.appendChild(this.canvas);
    c.appendChild(this.panel);
    c.appendChild(this.legend);
    this.showHint();
    var self = this;
    this.select.addEventListener("change", function () {
      self.radius = parseInt(self.select.value, 10) || 1;
      self.load();
    });
  };

  Explorer.prototype.url = function () {
    var url = new URL(this.elementsUrl, window.location.href);
    url.searchParams.set("radius", String(this.radius));
    return url.toString();
  };

  Explorer.prototype.load = function () {
    var self = this;
    this.container.setAttribute("data-state", "loading");
    this.status.textContent = "Loading…";
    return fetch(this.url(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("the server answered " + response.status + " " + response.statusText);
        return response.json();
      })
      .then(function (elements) { self.draw(elements); })
      .catch(function (error) {
        self.container.setAttribute("data-state", "error");
        self.status.textContent = "Could not load the graph: " + error.message;
      });
  };

  Explorer.prototype.draw = function (elements) {
    var self = this;
    if (typeof window.cytoscape !== "function") {
      throw new Error("cytoscape.min.js is not loaded");
    }
    if (this.cy) this.cy.destroy();
    quietCytoscapeStylesheet();
    var nodes = elements.nodes || [];
    var edges = elements.edges || [];
    var rings = nodes.reduce(function (m, n) { return Math.max(m, n.data.distance || 0); }, 0);
    var circles = circlesFor(nodes, rings);
    this.cy = window.cytoscape({
      container: this.canvas,
      elements: { nodes: nodes, edges: edges },
      style: styles(),
      layout: {
        name: "concentric",
        concentric: function (n) { return circles[n.id()]; },
        levelWidth: function () { return 1; },
        minNodeSpacing: rings > 1 ? 16 : 28,
        spacingFactor: 1.1,
        avoidOverlap: true,
        animate: false
      },
      minZoom: 0.2,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      autoungrabify: false
    });
    window.patternGraph = this.cy;
    this.cy.on("mouseover tap", "edge", function (event) { self.showEdge(event.target); });
    this.cy.on("mouseover", "node", function (event) { self.showNode(event.target); });
    this.cy.on("tap", "node", function (event) { self.open(event.target); });
    this.drawLegend(nodes, edges, rings > 1);
    var shown = nodes.length + " pattern" + (nodes.length === 1 ? "" : "s") + ", " + edges.length + " relation" +
      (edges.length === 1 ? "" : "s");
    if (elements.truncated) {
      shown += " (the " + nodes.length + " closest of " + elements.total_nodes + " within " + elements.radius + " hops)";
    }
    this.status.textContent = shown;
    this.container.setAttribute("data-state", "ready");
  };

  Explorer.prototype.clearActive = function () {
    if (this.cy) this.cy.elements(".pg-active").removeClass("pg-active");
  };

  Explorer.prototype.showHint = function () {
    this.panel.textContent = "";
    this.panel.appendChild(el("h3", "pg-panel-title", "Relations"));
    this.panel.appendChild(el("p", "pg-panel-hint", "Point at or tap a line to read its relation; tap a pattern to open it."));
  };

  Explorer.prototype.showEdge = function (edge) {
    this.clearActive();
    edge.addClass("pg-active");
    var d = edge.data();
    var source = edge.source().data("label");
    var target = edge.target().data("label");
    this.panel.textContent = "";
    var title = el("h3", "pg-panel-title pg-relation", words(d.relation));
    title.style.color = relationColour(d.relation);
    this.panel.appendChild(title);
    var link = d.directed ? " → " : " — ";
    this.panel.appendChild(el("p", "pg-pair", source + link + target));
    this.panel.appendChild(el("p", "pg-rationale", d.rationale));
    if (RELATIONS[d.relation]) this.panel.appendChild(el("p", "pg-panel-hint", RELATIONS[d.relation].text));
  };

  Explorer.prototype.showNode = function (node) {
    this.clearActive();
    node.addClass("pg-active");
    var d = node.data();
    this.panel.textContent = "";
    this.panel.appendChild(el("h3", "pg-panel-title", d.label));
    var what = d.kind === "trait" ? "trait, " + words(d.dimension) + " (" + d.pole + " pole)" : words(d.family);
    this.panel.appendChild(el("p", "pg-pair", what));
    this.panel.appendChild(el("p", "pg-panel-hint", d.centre ? "the pattern this page is about" :
      d.distance + (d.distance === 1 ? " hop" : " hops") + " away; tap to open"));
  };

  Explorer.prototype.target = function (id) {
    if (!this.patternUrl) return null;
    return this.patternUrl.split("{id}").join(encodeURIComponent(id));
  };

  Explorer.prototype.open = function (node) {
    if (node.data("centre")) return;
    var href = this.target(node.id());
    if (href) window.location.assign(href);
  };

  /* Show or hide the relations of one type (the legend's tick boxes). */
  Explorer.prototype.showRelation = function (kind, shown) {
    this.cy.edges().filter(function (e) { return e.data("relation") === kind; }).toggleClass("pg-hidden", !shown);
  };

  /* The legend: one tick box per relation type drawn (constraints start unticked past one hop, where their
   * dashed lines would bury the interactions), then the families' colours. */
  Explorer.prototype.drawLegend = function (nodes, edges, wide) {
    var self = this;
    var legend = this.legend;
    legend.textContent = "";
    var seenRelations = {};
    edges.forEach(function (e) { seenRelations[e.data.relation] = true; });
    var seenFamilies = {};
    nodes.forEach(function (n) { seenFamilies[n.data.family] = true; });
    var relations = el("ul", "pg-legend-relations");
    Object.keys(RELATIONS).concat(Object.keys(seenRelations).filter(function (k) { return !RELATIONS[k]; }))
      .filter(function (k) { return seenRelations[k]; })
      .forEach(function (kind) {
        var constraint = kind === "excludes" || kind === "not_same_character";
        var item = el("li", "pg-legend-item");
        item.setAttribute("data-relation", kind);
        var label = el("label", "pg-legend-toggle");
        var box = el("input");
        box.type = "checkbox";
        box.checked = !(wide && constraint);
        box.addEventListener("change", function () { self.showRelation(kind, box.checked); });
        self.showRelation(kind, box.checked);
        var swatch = el("span", "pg-swatch pg-swatch-line");
        swatch.style.borderTopColor = relationColour(kind);
        if (constraint) swatch.classList.add("pg-dashed");
        label.appendChild(box);
        label.appendChild(swatch);
        label.appendChild(el("span", null, RELATIONS[kind] ? RELATIONS[kind].text : words(kind)));
        item.appendChild(label);
        relations.appendChild(item);
      });
    var families = el("ul", "pg-legend-families");
    Object.keys(seenFamilies).sort().forEach(function (family) {
      var item = el("li", "pg-legend-item");
      item.setAttribute("data-family", family);
      var swatch = el("span", "pg-swatch pg-swatch-dot");
      swatch.style.backgroundColor = familyColour(family);
      item.appendChild(swatch);
      item.appendChild(el("span", null, words(family)));
      families.appendChild(item);
    });
    legend.appendChild(el("h4", null, "Relations (tick to show)"));
    legend.appendChild(relations);
    legend.appendChild(el("h4", null, "Families (circles: social-cognitive, squares: traits)"));
    legend.appendChild(families);
  };

  function start() {
    var container = document.getElementById("pattern-graph");
    if (!container || !container.getAttribute("data-elements-url")) return;
    var explorer = new Explorer(container);
    window.patternExplorer = explorer;
    explorer.load();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
