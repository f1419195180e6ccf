// Scorecard charts (Apache ECharts, vendored). Data comes from <script id="chart-data">;
// clicking a bar of the lower-level chart drills down to that unit.
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || !window.echarts) { return; }
  var data = JSON.parse(holder.textContent);
  var GRADE_COLOURS = { "优秀": "#c00000", "良好": "#e67e22", "合格": "#2e86c1", "不合格": "#7f8c8d" };
  var KIND = { street: "街道", community: "社区", branch: "支部" };
  var charts = [];

  function make(el, option, onClick) {
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    if (onClick) { chart.on("click", onClick); }
    charts.push(chart);
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var kind = el.getAttribute("data-chart");
    if (kind === "grades") {
      make(el, {
        title: { text: "等级分布", left: "center" },
        tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
        series: [{ type: "pie", radius: ["35%", "65%"], top: 30,
          label: { formatter: "{b}\n{c}" },
          data: data.grades.map(function (g) {
            return { name: g.name, value: g.value, itemStyle: { color: GRADE_COLOURS[g.name] } };
          }) }]
      });
    } else if (kind === "children") {
      make(el, {
        title: { text: "下级" + (KIND[data.children_kind] || "单位") + "平均分（点击下钻）", left: "center" },
        tooltip: { trigger: "axis" },
        grid: { left: 50, right: 20, top: 50, bottom: 70 },
        xAxis: { type: "category", data: data.children.map(function (c) { return c.name; }),
          axisLabel: { interval: 0, rotate: data.children.length > 6 ? 35 : 0 } },
        yAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor(v.min / 10) * 10 - 10); } },
        series: [{ type: "bar", data: data.children.map(function (c) { return c.value; }),
          itemStyle: { color: "#c00000" }, label: { show: true, position: "top" } }]
      }, function (p) {
        var target = data.children[p.dataIndex];
        if (target && target.link) { window.location.href = target.link; }
      });
    } else if (kind === "items") {
      var items = data.items.slice().reverse();
      make(el, {
        title: { text: "各指标平均得分 / 满分", left: "center" },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 28, data: ["平均得分", "满分"] },
        grid: { left: 150, right: 30, top: 60, bottom: 20 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: items.map(function (i) { return i.name; }) },
        series: [
          { name: "满分", type: "bar", barGap: "-100%", data: items.map(function (i) { return i.max; }),
            itemStyle: { color: "#f2d7d5" }, silent: true },
          { name: "平均得分", type: "bar", data: items.map(function (i) { return i.value; }),
            itemStyle: { color: "#c00000" }, label: { show: true, position: "right" } }
        ]
      });
    } else if (kind === "history") {
      make(el, {
        title: { text: "历年总分", left: "center" },
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: data.history.map(function (h) { return h.cycle; }) },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [{ type: "line", data: data.history.map(function (h) { return h.total; }),
          label: { show: true }, itemStyle: { color: "#c00000" } }]
      });
    }
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
