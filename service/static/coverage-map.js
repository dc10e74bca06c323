// The territory's gap map: commune outlines and partner sites fetched as GeoJSON from the
// app (no tiles, nothing from the Internet), names on hover, a click on a commune lists its
// partners for the domain and why it is a gap, fragile, covered or of unknown contact.
// The table below the map carries the same data, so the page works without this script.
// Text from the data is always set with textContent, never parsed as HTML.
(function () {
  "use strict";

  var LANDMARKS = 6; // commune names always shown
  var canvas = document.getElementById("gapmap");
  var panel = document.getElementById("gapmap-panel");
  if (!canvas || !panel || typeof L === "undefined") {
    return;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      });
  }

  var partnersById = {};

  function showCommune(props) {
    panel.textContent = "";
    var title = element("h3", "gapmap-panel-title", props.name);
    title.tabIndex = -1;
    panel.appendChild(title);
    var status = element("p", "gapmap-status");
    status.appendChild(element("span", "gapmap-key gapmap-key-" + props["class"]));
    status.appendChild(document.createTextNode(
      props.class_label.charAt(0).toUpperCase() + props.class_label.slice(1) +
      " · " + props.population_label + " habitants"));
    panel.appendChild(status);
    panel.appendChild(element("p", "gapmap-why", props.why));
    var partners = props.partners || [];
    if (partners.length) {
      panel.appendChild(element("p", null, "Partenaires à portée (" + partners.length + ") :"));
      var list = element("ul", "gapmap-partners");
      partners.forEach(function (id) {
        var partner = partnersById[id] || { name: id, url: "/structures/" + id, notes: [] };
        var item = element("li");
        var link = element("a", null, partner.name);
        link.href = partner.url;
        item.appendChild(link);
        if (partner.notes && partner.notes.length) {
          item.appendChild(document.createTextNode(" (" + partner.notes.join(", ") + ")"));
        }
        list.appendChild(item);
      });
      panel.appendChild(list);
    } else {
      panel.appendChild(element("p", null, "Aucun partenaire à portée."));
    }
    if (props.remote) {
      panel.appendChild(element("p", null, props.remote +
        " partenaire(s) à distance, non compté(s) dans la couverture."));
    }
    var more = element("a", null, "Voir la ligne du tableau");
    more.href = "#commune-" + props.code;
    panel.appendChild(element("p")).appendChild(more);
  }

  function drawCommunes(map, data) {
    partnersById = data.partners || {};
    var layer = L.geoJSON(data, {
      style: function (feature) {
        return { className: "gapmap-commune gapmap-" + feature.properties["class"] };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6 });
      },
      onEachFeature: function (feature, commune) {
        var tip = element("span", null,
          feature.properties.name + " — " + feature.properties.class_label);
        commune.bindTooltip(tip, { sticky: true, direction: "top" });
        byCode[feature.properties.code] = commune;
        commune.on("click", function () {
          select(layer, commune);
          // On a phone the panel is below the map: bring it into view.
          var box = panel.getBoundingClientRect();
          if (box.top > window.innerHeight - 80) {
            panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
          }
        });
      }
    }).addTo(map);
    addTableButtons(map, layer);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [8, 8], animate: false });
    }
    drawLandmarks(map, layer);
  }

  var byCode = {};

  function select(layer, commune) {
    layer.eachLayer(function (other) {
      if (other.getElement && other.getElement()) {
        other.getElement().classList.remove("gapmap-selected");
      }
    });
    if (commune.getElement && commune.getElement()) {
      commune.getElement().classList.add("gapmap-selected");
    }
    showCommune(commune.feature.properties);
  }

  // By keyboard: each row of the table gets a button that shows its commune on the map and
  // its partners in the panel, then moves the focus to the panel.
  function addTableButtons(map, layer) {
    document.querySelectorAll("tr[id^='commune-'] > th").forEach(function (cell) {
      var commune = byCode[cell.parentNode.id.slice("commune-".length)];
      if (!commune) {
        return;
      }
      var button = element("button", "gapmap-show link", "sur la carte");
      button.type = "button";
      button.setAttribute("aria-label", "Voir " + commune.feature.properties.name + " sur la carte");
      button.addEventListener("click", function () {
        if (commune.getBounds) {
          map.fitBounds(commune.getBounds(), { maxZoom: 11, padding: [40, 40] });
        }
        select(layer, commune);
        canvas.scrollIntoView({ block: "nearest" });
        panel.querySelector("h3").focus();
      });
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(button);
    });
  }

  // The names of the most populated communes stay written on the map, so that one finds
  // one's way without a background map.
  function drawLandmarks(map, layer) {
    var communes = layer.getLayers().slice();
    communes.sort(function (a, b) {
      return b.feature.properties.population - a.feature.properties.population;
    });
    communes.slice(0, LANDMARKS).forEach(function (commune) {
      var where = commune.getBounds ? commune.getBounds().getCenter() : commune.getLatLng();
      var label = element("span", "gapmap-landmark-text", commune.feature.properties.name);
      L.marker(where, {
        icon: L.divIcon({ className: "gapmap-landmark", html: label, iconSize: null }),
        interactive: false,
        keyboard: false
      }).addTo(map);
    });
  }

  // Each site is a real link to its structure: a click, or Enter once focused, opens it.
  function drawSites(map, data) {
    L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        var link = element("a", "gapmap-site");
        link.href = feature.properties.url;
        link.setAttribute("aria-label", "Lieu d'accueil : " + feature.properties.name);
        var marker = L.marker(latlng, {
          icon: L.divIcon({ className: "gapmap-site-icon", html: link, iconSize: [18, 18] }),
          keyboard: false, // the link inside is what takes the focus
          zIndexOffset: 1000
        });
        marker.bindTooltip(element("span", null, feature.properties.name), {
          direction: "top",
          offset: [0, -9]
        });
        return marker;
      }
    }).addTo(map);
  }

  canvas.hidden = false;
  panel.hidden = false;
  var map = L.map(canvas, {
    attributionControl: false,
    zoomSnap: 0.25,
    minZoom: 6,
    maxZoom: 15
  });
  map.zoomControl.remove();
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  map.setView([46.6, 2.4], 6);

  fetchJson(canvas.dataset.communes)
    .then(function (communes) {
      drawCommunes(map, communes);
      return fetchJson(canvas.dataset.sites);
    })
    .then(function (sites) {
      drawSites(map, sites);
    })
    .catch(function () {
      panel.textContent = "";
      panel.appendChild(element("p", null,
        "La carte n'a pas pu être chargée ; le tableau plus bas donne les mêmes informations."));
    });
})();
