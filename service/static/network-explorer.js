// The network explorer: search a structure, draw its neighbourhood (one or two steps) with
// Cytoscape.js, and list the same structures as links beside the drawing. Only the
// neighbourhood is ever drawn, so a territory of 1,500 structures stays smooth; the whole
// graph comes once from the JSON endpoint (again when a filter changes).
(function () {
  "use strict";

  var root = document.querySelector("[data-explorer]");
  if (!root || typeof window.cytoscape !== "function") {
    return;
  }
  var MAX_DRAWN = 300; // beyond this, the closest structures are drawn and the rest listed
  var LABEL_ALL_UNDER = 16; // small neighbourhoods show every name; larger ones on hover
  var LEVEL_COLOURS = { operational: "#1d4e89", organisational: "#8a4f00", political: "#6b2c91" };
  var LEVEL_ORDER = ["operational", "organisational", "political"];

  var search = document.getElementById("explorer-search");
  var names = document.getElementById("explorer-names");
  var showButton = document.getElementById("explorer-show");
  var domainSelect = document.getElementById("explorer-domain");
  var list = document.getElementById("explorer-list");
  var listTitle = document.getElementById("explorer-list-title");
  var status = document.getElementById("explorer-status");
  var canvas = document.getElementById("explorer-canvas");

  var byId = new Map();
  var byName = new Map();
  var neighbours = new Map();
  var edgeList = [];
  var current = root.getAttribute("data-start") || "";
  var cy = null;

  function say(text) {
    status.textContent = text;
  }

  function plural(count, one, many) {
    return count.toLocaleString("fr-FR") + " " + (count === 1 ? one : many);
  }

  function steps() {
    var checked = root.querySelector("input[name='explorer-steps']:checked");
    return checked && checked.value === "2" ? 2 : 1;
  }

  function query() {
    var params = new URLSearchParams();
    root.querySelectorAll("input[name='explorer-level']:checked").forEach(function (box) {
      params.append("level", box.value);
    });
    if (domainSelect.value) {
      params.append("domain", domainSelect.value);
    }
    return params.toString();
  }

  function index(data) {
    byId = new Map();
    byName = new Map();
    neighbours = new Map();
    edgeList = data.edges;
    data.nodes.forEach(function (node) {
      byId.set(node.id, node);
      if (!byName.has(node.name)) {
        byName.set(node.name, node.id);
      }
      neighbours.set(node.id, []);
    });
    data.edges.forEach(function (edge) {
      neighbours.get(edge.source).push(edge.target);
      neighbours.get(edge.target).push(edge.source);
    });
    var fragment = document.createDocumentFragment();
    data.nodes.forEach(function (node) {
      var option = document.createElement("option");
      option.value = node.name;
      fragment.appendChild(option);
    });
    names.replaceChildren(fragment);
  }

  function neighbourhood(start, depth) {
    var distance = new Map([[start, 0]]);
    var frontier = [start];
    for (var step = 1; step <= depth; step += 1) {
      var next = [];
      frontier.forEach(function (id) {
        neighbours.get(id).forEach(function (other) {
          if (!distance.has(other)) {
            distance.set(other, step);
            next.push(other);
          }
        });
      });
      frontier = next;
    }
    return distance;
  }

  function ordered(distance) {
    return Array.from(distance.keys()).sort(function (a, b) {
      return (
        distance.get(a) - distance.get(b) ||
        byId.get(a).name.localeCompare(byId.get(b).name, "fr")
      );
    });
  }

  function strongest(levels) {
    for (var i = LEVEL_ORDER.length - 1; i >= 0; i -= 1) {
      if (levels.indexOf(LEVEL_ORDER[i]) >= 0) {
        return LEVEL_ORDER[i];
      }
    }
    return "operational";
  }

  function elementsOf(ids, distance) {
    var drawn = new Set(ids);
    var direct = ids.filter(function (id) {
      return distance.get(id) === 1;
    }).length;
    // Every name when few; else the direct partners' names when they are few.
    var labelUpTo = ids.length < LABEL_ALL_UNDER ? 2 : direct < LABEL_ALL_UNDER ? 1 : 0;
    var elements = ids.map(function (id) {
      var node = byId.get(id);
      var ring = distance.get(id);
      var classes = ring === 0 ? "center labelled" : ring <= labelUpTo ? "labelled" : "";
      return {
        group: "nodes",
        data: { id: id, label: node.name, url: node.url, ring: distance.get(id) },
        classes: classes,
      };
    });
    edgeList.forEach(function (edge, i) {
      if (drawn.has(edge.source) && drawn.has(edge.target)) {
        elements.push({
          group: "edges",
          data: {
            id: "e" + i,
            source: edge.source,
            target: edge.target,
            colour: LEVEL_COLOURS[strongest(edge.levels)],
          },
          classes: edge.convention ? "convention" : "",
        });
      }
    });
    return elements;
  }

  var STYLE = [
    {
      selector: "node",
      style: {
        "background-color": "#5b7fa8",
        width: 14,
        height: 14,
        "font-size": 11,
        color: "#1b1b1b",
        "text-valign": "top",
        "text-margin-y": -4,
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.85,
        "text-background-padding": 2,
        "min-zoomed-font-size": 6,
        "text-wrap": "ellipsis",
        "text-max-width": "160px",
      },
    },
    { selector: "node.labelled", style: { label: "data(label)" } },
    {
      selector: "node.center",
      style: {
        "background-color": "#b00020",
        width: 22,
        height: 22,
        "font-weight": "bold",
        "z-index": 20,
        "text-max-width": "320px",
      },
    },
    {
      selector: "node.highlighted",
      style: {
        "border-width": 3,
        "border-color": "#1b1b1b",
        label: "data(label)",
        "z-index": 30,
        "text-max-width": "320px",
      },
    },
    {
      selector: "edge",
      style: { width: 1.5, "line-color": "data(colour)", "curve-style": "haystack", opacity: 0.7 },
    },
    { selector: "edge.convention", style: { width: 3.5, opacity: 0.9 } },
  ];

  // Rings around the chosen structure, one per step, computed here in one pass (a
  // force-directed layout would cost seconds on a large neighbourhood). Each ring is wide
  // enough for its nodes; the second ring is ordered by the angle of the direct partners
  // it hangs from, so that its links stay short.
  var SPACING = 30;
  var positions = new Map();

  function place(ids, distance) {
    positions = new Map();
    var rings = [[], [], []];
    ids.forEach(function (id) {
      rings[distance.get(id)].push(id);
    });
    var step = 90;
    for (var d = 1; d < rings.length; d += 1) {
      step = Math.max(step, (rings[d].length * SPACING) / (2 * Math.PI * d));
    }
    var angle = new Map();
    rings[0].forEach(function (id) {
      positions.set(id, { x: 0, y: 0 });
    });
    rings[1].forEach(function (id, i) {
      angle.set(id, (2 * Math.PI * i) / Math.max(rings[1].length, 1));
    });
    var outer = rings[2].map(function (id) {
      var sum = 0;
      var count = 0;
      neighbours.get(id).forEach(function (other) {
        if (angle.has(other)) {
          sum += angle.get(other);
          count += 1;
        }
      });
      return { id: id, at: count ? sum / count : 0 };
    });
    outer.sort(function (p, q) {
      return p.at - q.at;
    });
    outer.forEach(function (item, i) {
      angle.set(item.id, (2 * Math.PI * i) / outer.length);
    });
    angle.forEach(function (a, id) {
      var r = step * distance.get(id);
      positions.set(id, { x: r * Math.cos(a), y: r * Math.sin(a) });
    });
  }

  function layout() {
    return {
      name: "preset",
      positions: function (node) {
        return positions.get(node.id());
      },
      animate: false,
      fit: true,
      padding: 24,
    };
  }

  function draw(elements) {
    if (cy === null) {
      cy = window.cytoscape({
        container: canvas,
        elements: elements,
        style: STYLE,
        layout: { name: "preset" },
        minZoom: 0.2,
        maxZoom: 3,
        boxSelectionEnabled: false,
        autoungrabify: true,
        hideEdgesOnViewport: true,
        textureOnViewport: true,
      });
      cy.on("tap", "node", function (event) {
        window.location.assign(event.target.data("url"));
      });
      cy.on("mouseover", "node", function (event) {
        event.target.addClass("highlighted");
        canvas.classList.add("pointing");
      });
      cy.on("mouseout", "node", function (event) {
        event.target.removeClass("highlighted");
        canvas.classList.remove("pointing");
      });
    } else {
      cy.batch(function () {
        cy.elements().remove();
        cy.add(elements);
      });
    }
    if (elements.length) {
      cy.layout(layout()).run();
    }
  }

  function highlight(id, on) {
    if (cy === null) {
      return;
    }
    var node = cy.getElementById(id);
    if (node.nonempty()) {
      if (on) {
        node.addClass("highlighted");
      } else {
        node.removeClass("highlighted");
      }
    }
  }

  function renderList(ids, distance) {
    var fragment = document.createDocumentFragment();
    ids.forEach(function (id) {
      var node = byId.get(id);
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = node.url;
      link.textContent = node.name;
      link.addEventListener("focus", function () {
        highlight(id, true);
      });
      link.addEventListener("blur", function () {
        highlight(id, false);
      });
      link.addEventListener("mouseenter", function () {
        highlight(id, true);
      });
      link.addEventListener("mouseleave", function () {
        highlight(id, false);
      });
      item.appendChild(link);
      var note = document.createElement("span");
      note.className = "distance";
      var d = distance.get(id);
      note.textContent = d === 0 ? " (structure choisie)" : d === 1 ? " (partenaire direct)" : " (à deux pas)";
      if (d === 0) {
        item.className = "center";
      }
      item.appendChild(note);
      fragment.appendChild(item);
    });
    list.replaceChildren(fragment);
  }

  function show(id) {
    var node = byId.get(id);
    if (!node) {
      list.replaceChildren();
      draw([]);
      say(
        current
          ? "Cette structure n'apparaît pas avec ces filtres : changez-les ou cherchez-en une autre."
          : "Cherchez une structure pour voir ses partenaires."
      );
      return;
    }
    current = id;
    var distance = neighbourhood(id, steps());
    var ids = ordered(distance);
    var drawn = ids.slice(0, MAX_DRAWN);
    place(drawn, distance);
    draw(elementsOf(drawn, distance));
    renderList(ids, distance);
    listTitle.textContent = "Voisinage de " + node.name;
    var direct = ids.filter(function (other) {
      return distance.get(other) === 1;
    }).length;
    var text = node.name + " : " + plural(direct, "partenaire direct", "partenaires directs");
    if (steps() === 2) {
      text += ", " + plural(ids.length - 1 - direct, "structure", "structures") + " à deux pas";
    }
    if (ids.length > MAX_DRAWN) {
      text += " ; le dessin montre les " + MAX_DRAWN + " plus proches, la liste les donne toutes";
    }
    say(text + ".");
  }

  function choose() {
    var typed = search.value.trim().toLocaleLowerCase("fr");
    if (!typed) {
      say("Tapez une partie du nom d'une structure.");
      return;
    }
    var exact = null;
    var partial = null;
    byId.forEach(function (node) {
      var name = node.name.toLocaleLowerCase("fr");
      if (exact === null && name === typed) {
        exact = node;
      } else if (partial === null && name.indexOf(typed) >= 0) {
        partial = node;
      }
    });
    var found = exact || partial;
    if (!found) {
      say("Aucune structure ne correspond à « " + search.value.trim() + " ».");
      return;
    }
    search.value = found.name;
    show(found.id);
  }

  function load() {
    say("Le dessin se charge…");
    return fetch(root.getAttribute("data-graph") + "?" + query(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        index(data);
        show(current);
      })
      .catch(function () {
        say("Le réseau n'a pas pu être chargé : rechargez la page.");
      });
  }

  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      choose();
    }
  });
  // Picking a name in the datalist (or typing one whole) shows it at once.
  search.addEventListener("input", function () {
    var id = byName.get(search.value);
    if (id && id !== current) {
      show(id);
    }
  });
  showButton.addEventListener("click", choose);
  root.querySelectorAll("input[name='explorer-steps']").forEach(function (radio) {
    radio.addEventListener("change", function () {
      show(current);
    });
  });
  root.querySelectorAll("input[name='explorer-level']").forEach(function (box) {
    box.addEventListener("change", load);
  });
  domainSelect.addEventListener("change", load);
  load();
})();
