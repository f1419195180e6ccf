// The close form: live quorum while attendance is filled in, reason boxes only when needed.
// 支部工作条例第十一条: more than half of the voting (正式) members not excused must be present.
(function () {
  "use strict";
  var roster = document.getElementById("roster");
  var out = document.getElementById("quorum");
  if (!roster || !out) { return; }
  var members = Array.prototype.slice.call(roster.querySelectorAll(".member"));

  function presenceOf(m) {
    var checked = m.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "";
  }

  function quorumNeeded() {
    if (roster.getAttribute("data-quorum") === "1") { return true; }
    return Array.prototype.some.call(document.querySelectorAll("input[name=also][data-quorum='1']"),
      function (c) { return c.checked; });
  }

  function update() {
    var expected = 0, present = 0, marked = 0, total = members.length;
    members.forEach(function (m) {
      var p = presenceOf(m);
      if (p) { marked += 1; }
      var reason = m.querySelector(".reason");
      var needsReason = p === "leave" || p === "absent";
      m.classList.toggle("needs-reason", needsReason);
      reason.required = needsReason;
      if (m.getAttribute("data-vote") === "1" && m.getAttribute("data-excused") !== "1") {
        expected += 1;
        if (p === "present") { present += 1; }
      }
    });
    var required = Math.floor(expected / 2) + 1;
    var text = "已登记 " + marked + "/" + total + " 人；有表决权的正式党员应到 " + expected +
      " 名，实到 " + present + " 名";
    if (quorumNeeded()) {
      var met = present >= required;
      text += "，须至少 " + required + " 名：" + (met ? "已达到法定人数" : "未达到法定人数");
      out.className = "quorum " + (met ? "met" : "unmet");
    } else {
      out.className = "quorum";
      text += "（本项活动无法定人数要求）";
    }
    out.textContent = text;
  }

  roster.addEventListener("change", update);
  document.querySelectorAll("input[name=also]").forEach(function (c) { c.addEventListener("change", update); });
  var all = document.getElementById("all-present");
  if (all) {
    all.addEventListener("click", function () {
      members.forEach(function (m) {
        var r = m.querySelector("input[value=present]");
        if (r) { r.checked = true; }
      });
      update();
    });
  }
  update();
})();
