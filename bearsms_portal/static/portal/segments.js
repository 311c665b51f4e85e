/* SMS segment counter: the browser mirror of messaging/segments.py (count_segments).
 * Keep the two in step: tests/messaging/test_browser_send.py compares them on the same cases. */
(function (global) {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var LIMITS = { gsm7: [160, 153], ucs2: [70, 67] };

  function countSegments(text) {
    var gsm = true, septets = 0;
    // for..of walks code points, like Python's str
    for (var ch of text) {
      if (BASIC.indexOf(ch) >= 0) { septets += 1; }
      else if (EXTENSION.indexOf(ch) >= 0) { septets += 2; }
      else { gsm = false; break; }
    }
    var encoding = gsm ? "gsm7" : "ucs2";
    var characters = gsm ? septets : text.length; // JS length = UTF-16 code units
    var single = LIMITS[encoding][0], multi = LIMITS[encoding][1];
    if (characters <= single) {
      return { characters: characters, encoding: encoding, segments: characters ? 1 : 0, per_segment: single };
    }
    return { characters: characters, encoding: encoding, segments: Math.ceil(characters / multi), per_segment: multi };
  }

  function withFooter(text, footer) { return footer ? text + " " + footer : text; }

  global.BearSMSSegments = { countSegments: countSegments, withFooter: withFooter };
})(window);
