// A LiberSign wrapper written the way s2low's template/LibersignJS.php drives LiberSign (its
// jQuery plugin, without jQuery): it tests `typeof LiberSign === 'object'` once when it starts,
// calls setUpdateUrl() then getCertificates(), shows a certificate table (RGS badge,
// favourite in localStorage["libersign-fav"], expiry date through new Date(NOTAFTER)), then
// sign(selectedCert, signatureInformations), shows `libersignmessage` progress and, on
// failure, `error.exception`. Signatures are announced with a `libersign.sign` event.
// `flavor: 'iparapheur'` drives it as iParapheur 4's javascript/lib/libersign.js does: after
// the `typeof` test, getVersion() must answer before anything else (else the error block),
// the update URL gets a trailing slash, and a failure without `exception` shows a generic text.
// Every call on LiberSign is logged in window.libersignCalls, in order.
(function () {
  'use strict';

  var config = { extensionUpdateUrl: '/libersign/', iconType: 'fa' };
  var certsList = [];
  var selectedCert;
  var calls = window.libersignCalls = [];

  function el(html) {
    var t = document.createElement('template');
    t.innerHTML = html;
    return t.content;
  }

  function text(s) {
    var d = document.createElement('div');
    d.textContent = s;
    return d.innerHTML;
  }

  function show(block, id, on) {
    var e = block.querySelector('#' + id);
    if (e) e.style.display = on ? '' : 'none';
  }

  function handleError(block) {
    block.append(el('<div class="text-danger" id="libersign-missing">Chargement de LiberSign impossible. Merci de vérifier l\'installation.</div>'));
  }

  function handleExtension(block) {
    calls.push('setUpdateUrl');
    LiberSign.setUpdateUrl(config.flavor === 'iparapheur' ? config.extensionUpdateUrl.replace(/\/?$/, '/') : config.extensionUpdateUrl);
    calls.push('getCertificates');
    LiberSign.getCertificates().then(function (certs) {
      certsList = certs;
      handleLoadedCerts(block);
    }).catch(function (error) {
      console.log(error);
      show(block, 'libersign-cert-load', false);
      show(block, 'libersign-no-impl', true);
    });
    block.append(el('<span id="libersign-cert-load">Chargement des certificats disponibles en cours...</span>'
      + '<span id="libersign-signing" style="display:none">Signature en cours...</span>'
      + '<span id="libersign-signed" style="display:none">Document(s) signé(s). Envoi des informations de signature au serveur...</span>'
      + '<span id="libersign-error" style="display:none">Erreur lors de la signature.<br><span id="libersign-message"></span></span>'
      + '<span id="libersign-no-impl" style="display:none">Installation de LiberSign incomplète.</span>'));
  }

  function row(cert) {
    var date = new Date(cert.NOTAFTER);
    var day = ('0' + date.getDate()).slice(-2);
    var month = ('0' + (date.getMonth() + 1)).slice(-2);
    var badge = cert.verifiedWith.indexOf('RGS') !== -1 ? '<span class="label label-success">RGS</span>'
      : cert.verifiedWith.indexOf('ADULLACT') !== -1 ? '<span class="label label-info">Adullact</span>' : '';
    return '<tr data-id="' + text(cert.ID) + '"><td class="libersign-fav">☆</td><td>' + badge + '</td><td class="cn">' + text(cert.CN)
      + '</td><td class="issuer">' + text(cert.ISSUERDN) + '</td><td class="expiry">' + day + '/' + month + '/' + date.getFullYear() + '</td></tr>';
  }

  function handleLoadedCerts(block) {
    show(block, 'libersign-cert-load', false);
    var favID = localStorage.getItem('libersign-fav');
    var html = '<div id="libersign-cert-select">';
    if (certsList.length === 0) html += '<span class="text-danger">Aucun certificat de signature détecté</span>';
    else html += '<table><thead><tr><th></th><th></th><th>Nom</th><th>Émetteur</th><th>Date d\'expiration</th></tr></thead><tbody class="certificateList">'
      + certsList.map(row).join('') + '</tbody></table>';
    html += '<button id="libersign-confirm" disabled>Confirmer</button></div>';
    block.append(el(html));
    var rows = block.querySelectorAll('tbody > tr');
    rows.forEach(function (tr, index) {
      tr.addEventListener('click', function () {
        rows.forEach(function (r) { r.classList.remove('active-line'); });
        tr.classList.add('active-line');
        block.querySelector('#libersign-confirm').disabled = false;
        selectedCert = certsList[index];
      });
      tr.querySelector('.libersign-fav').addEventListener('click', function () {
        localStorage.setItem('libersign-fav', certsList[index].ID);
      });
      if (certsList[index].ID === favID) tr.click();
    });
    if (certsList.length === 1) rows[0].click();
    block.querySelector('#libersign-confirm').addEventListener('click', function () { handleSignature(block); });
  }

  function handleSignature(block) {
    show(block, 'libersign-cert-select', false);
    show(block, 'libersign-signing', true);
    var handleMessage = function (ev) {
      block.querySelector('#libersign-signing').textContent = ev.detail.progress;
    };
    window.addEventListener('libersignmessage', handleMessage);
    calls.push('sign');
    LiberSign.sign(selectedCert, config.signatureInformations).then(function (signatures) {
      show(block, 'libersign-signing', false);
      show(block, 'libersign-signed', true);
      window.removeEventListener('libersignmessage', handleMessage);
      block.dispatchEvent(new CustomEvent('libersign.sign', { bubbles: true, detail: signatures }));
    }).catch(function (error) {
      window.libersignError = { code: error.code, signed: error.signed, notSigned: error.notSigned };
      show(block, 'libersign-signing', false);
      show(block, 'libersign-error', true);
      block.querySelector('#libersign-message').textContent = config.flavor === 'iparapheur'
        ? error.exception || 'Erreur inconnue. Merci de contacter votre administrateur.' : error.exception;
      window.removeEventListener('libersignmessage', handleMessage);
    });
  }

  /** $(".libersign").libersign({signatureInformations: …}) */
  window.libersign = function (block, options) {
    config = Object.assign({}, config, options || {});
    calls.push('typeof');
    if (typeof LiberSign !== 'object') handleError(block);
    else if (config.flavor !== 'iparapheur') handleExtension(block);
    else {
      calls.push('getVersion');
      LiberSign.getVersion().then(function () { handleExtension(block); }, function () { handleError(block); });
    }
  };
})();
