// Analytics page: the two charts, drawn from the figures the server rendered
// into the page (the tables and the CSV export show the same numbers).
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const ANSWERED = "#1a7f37";
const UNANSWERED = "#c62828";

function draw() {
  const source = document.getElementById("analytics-chart");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const days = document.querySelector('canvas[data-chart="days"]');
  const sources = document.querySelector('canvas[data-chart="sources"]');
  if (days) {
    new Chart(days, {
      type: "bar",
      data: {
        labels: data.days.map((d) => d.label.slice(5)),
        datasets: [
          { label: "Answered", data: data.days.map((d) => d.answered), backgroundColor: ANSWERED },
          { label: "Not answered", data: data.days.map((d) => d.unanswered), backgroundColor: UNANSWERED },
        ],
      },
      options: stacked(),
    });
  }
  if (sources) {
    new Chart(sources, {
      type: "bar",
      data: {
        labels: data.sources.map((s) => s.label),
        datasets: [
          { label: "Answered", data: data.sources.map((s) => s.answered), backgroundColor: ANSWERED },
          { label: "Not answered", data: data.sources.map((s) => s.calls - s.answered), backgroundColor: UNANSWERED },
        ],
      },
      options: { ...stacked(), indexAxis: "y" },
    });
  }
  document.body.dataset.chartsReady = "1";
}

function stacked() {
  return {
    responsive: true,
    animation: false,
    scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    plugins: { legend: { position: "bottom" } },
  };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
else draw();
