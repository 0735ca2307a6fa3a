/* index.js - the start page: only the language switch (the links are static). */
(function () {
  "use strict";
  fv.start({ roles: [] });
})();
