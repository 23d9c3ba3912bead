/* rapport.html: search, per-family filters and paging. The page is complete without this
   script; it only adds tools. User data is only ever inserted as text (textContent). */
(function () {
  "use strict";

  var donnees = JSON.parse(document.getElementById("donnees").textContent);
  var libelles = donnees.libelles;
  var textes = donnees.textes;
  var parPage = donnees.parPage || 100;
  var recherche = document.getElementById("recherche");
  var etat = document.getElementById("etat");
  var outils = document.getElementById("outils");
  if (!outils || !recherche) return;

  function plier(texte) {
    // "François" is found by "francois": accents and case do not matter.
    return texte.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function nombre(n) { return n.toLocaleString("fr-FR"); }
  function noeud(balise, classe, texte) {
    var e = document.createElement(balise);
    if (classe) e.className = classe;
    if (texte !== undefined) e.textContent = texte;
    return e;
  }

  /* A row of the embedded data, drawn exactly as the template draws it.
     A row: [line, found, id, id marked, holder, birth, others, hint, findings, message];
     an item: [label, text, marked] or [label, [[text, marked], ...]]; hint and findings
     are indexes in textes, labels indexes in libelles. */
  function morceaux(item) {
    return Array.isArray(item[1]) ? item[1] : [[item[1], item[2]]];
  }
  function champ(item) {
    var span = noeud("span", "champ");
    span.appendChild(noeud("span", "libelle", libelles[item[0]]));
    span.appendChild(document.createTextNode(" "));
    morceaux(item).forEach(function (part) {
      if (part[1]) {
        span.className = "champ a-verifier";
        span.appendChild(noeud("mark", null, part[0]));
      } else {
        span.appendChild(document.createTextNode(part[0]));
      }
    });
    return span;
  }
  function cellule(tr, classe, items) {
    var td = noeud("td", classe);
    items.forEach(function (item) { td.appendChild(champ(item)); });
    tr.appendChild(td);
  }
  function ligne(r, autres) {
    var tr = noeud("tr");
    tr.appendChild(noeud("td", r[1] ? "num" : "num introuvable", r[0]));
    var id = noeud("td", "id");
    id.appendChild(r[3] ? noeud("mark", null, r[2]) : document.createTextNode(r[2]));
    tr.appendChild(id);
    cellule(tr, "titulaire", r[4]);
    cellule(tr, "naissance", r[5]);
    if (autres) cellule(tr, "autres", r[6]);
    var constats = noeud("td", "constats");
    if (r[7] >= 0) constats.appendChild(noeud("p", "indice", textes[r[7]]));
    if (r[8].length) {
      var ul = noeud("ul");
      r[8].forEach(function (f) { ul.appendChild(noeud("li", null, textes[f])); });
      constats.appendChild(ul);
    }
    if (r[9]) constats.appendChild(noeud("p", "message", "Message du portail : « " + r[9] + " »"));
    if (r[7] < 0 && !r[8].length && !r[9]) {
      constats.appendChild(noeud("p", "rien", "Aucun constat particulier sur cette ligne."));
    }
    tr.appendChild(constats);
    return tr;
  }
  function texteDe(r) {
    var mots = [r[0], r[2], r[9]];
    if (r[7] >= 0) mots.push(textes[r[7]]);
    r[8].forEach(function (f) { mots.push(textes[f]); });
    [r[4], r[5], r[6]].forEach(function (items) {
      items.forEach(function (item) {
        mots.push(libelles[item[0]]);
        morceaux(item).forEach(function (part) { mots.push(part[0]); });
      });
    });
    return plier(mots.join(" "));
  }

  /* Each table of rows is a group: its rows (drawn or embedded), how many are shown. */
  var groupes = [];
  document.querySelectorAll(".groupe").forEach(function (section) {
    var tbody = section.querySelector("tbody.lignes");
    if (!tbody) return;
    var table = tbody.closest("table");
    var numero = section.getAttribute("data-famille");
    var g = {
      section: section,
      famille: numero,
      tbody: tbody,
      autres: table.getAttribute("data-autres") === "1",
      lignes: [],
      limite: parPage,
      pagination: null,
      compte: null,
      plus: null,
      visible: true
    };
    Array.prototype.forEach.call(tbody.rows, function (tr) {
      g.lignes.push({ tr: tr, texte: null, famille: tr.getAttribute("data-famille") });
    });
    ((numero && donnees.familles[numero]) || []).forEach(function (r) {
      g.lignes.push({ tr: null, r: r, texte: null, famille: null });
    });
    var suite = section.querySelector(".suite");
    if (suite) suite.hidden = true;
    if (g.lignes.length > parPage) {
      g.pagination = noeud("div", "pagination");
      g.compte = noeud("span");
      g.plus = noeud("button", null,
        "Afficher " + nombre(parPage) + (parPage > 1 ? " lignes de plus" : " ligne de plus"));
      g.plus.type = "button";
      g.plus.addEventListener("click", function () {
        g.limite += parPage;
        dessiner(g, requete());
      });
      g.pagination.appendChild(g.compte);
      g.pagination.appendChild(g.plus);
      table.parentNode.insertAdjacentElement("afterend", g.pagination);
    }
    groupes.push(g);
  });

  var cases = Array.prototype.slice.call(document.querySelectorAll("input[data-filtre]"));
  function actives() {
    var a = {};
    cases.forEach(function (c) { a[c.getAttribute("data-filtre")] = c.checked; });
    return a;
  }
  function requete() {
    return plier(recherche.value).split(/\s+/).filter(Boolean);
  }
  function correspond(l, mots, familles) {
    if (l.famille && !familles[l.famille]) return false;
    if (!mots.length) return true;
    if (l.texte === null) l.texte = l.tr ? plier(l.tr.textContent) : texteDe(l.r);
    for (var i = 0; i < mots.length; i++) {
      if (l.texte.indexOf(mots[i]) < 0) return false;
    }
    return true;
  }

  /* Redraw one group; returns how many rows match. */
  function dessiner(g, mots) {
    var familles = actives();
    if (g.famille && !familles[g.famille]) {
      g.section.hidden = true;
      return 0;
    }
    var trouvees = g.lignes.filter(function (l) { return correspond(l, mots, familles); });
    var montrees = trouvees.slice(0, g.limite).map(function (l) {
      if (!l.tr) l.tr = ligne(l.r, g.autres);
      return l.tr;
    });
    g.tbody.replaceChildren.apply(g.tbody, montrees);
    g.section.hidden = mots.length > 0 && trouvees.length === 0;
    if (g.pagination) {
      g.pagination.hidden = trouvees.length <= parPage;
      g.compte.textContent = trouvees.length
        ? "Lignes 1 à " + nombre(montrees.length) + " sur " + nombre(trouvees.length) +
          (mots.length ? " trouvées" : "")
        : "";
      g.plus.hidden = montrees.length >= trouvees.length;
    }
    return trouvees.length;
  }

  function tout() {
    var mots = requete();
    var total = 0;
    var sections = 0;
    groupes.forEach(function (g) {
      g.limite = parPage;
      var n = dessiner(g, mots);
      if (g.famille) {
        total += n;
        if (n) sections += 1;
      }
    });
    if (!mots.length) {
      etat.textContent = "";
    } else if (total === 0) {
      etat.textContent = "Aucune ligne ne correspond à « " + recherche.value.trim() + " ».";
    } else {
      etat.textContent = nombre(total) + (total > 1 ? " lignes correspondent" : " ligne correspond") +
        " à « " + recherche.value.trim() + " » dans " + sections +
        (sections > 1 ? " familles." : " famille.");
    }
  }

  var attente = null;
  recherche.addEventListener("input", function () {
    clearTimeout(attente);
    attente = setTimeout(tout, 150);
  });
  cases.forEach(function (c) { c.addEventListener("change", tout); });
  document.getElementById("toutes").addEventListener("click", function () {
    cases.forEach(function (c) { c.checked = true; });
    recherche.value = "";
    tout();
  });

  outils.hidden = false;
  tout();
})();
