// The page's one script: send a photo to /predict and show the answer.
"use strict";

const $ = (id) => document.getElementById(id);

function show(error) {
  $("error").textContent = error;
  $("error").hidden = !error;
}

function drawSeen(pixels) {
  const context = $("seen").getContext("2d");
  const image = context.createImageData(28, 28);
  pixels.forEach((value, i) => {
    image.data.set([value, value, value, 255], 4 * i);
  });
  context.putImageData(image, 0, 0);
}

function drawBars(top) {
  const list = $("bars");
  list.replaceChildren();
  for (const entry of top) {
    const item = document.createElement("li");
    const label = document.createElement("div");
    label.className = "label";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = entry.class;
    const share = document.createElement("span");
    share.className = "probability";
    share.textContent = ` ${(100 * entry.probability).toFixed(1)} %`;
    label.append(name, share);
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${(100 * entry.probability).toFixed(1)}%`;
    bar.append(fill);
    item.append(label, bar);
    list.append(item);
  }
}

async function classify(file, name) {
  show("");
  $("status").textContent = "classifying…";
  $("photo").src = URL.createObjectURL(file);
  const form = new FormData();
  form.append("file", file, name || file.name || "photo");
  try {
    const response = await fetch("/predict?pixels=true", { method: "POST", body: form });
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(answer.error ? answer.error.message : response.statusText);
    }
    const prediction = answer.predictions[0];
    drawSeen(prediction.pixels);
    drawBars(prediction.top);
    $("warning").hidden = !prediction.unlike_training;
    $("result").hidden = false;
    $("status").textContent = "done";
  } catch (error) {
    $("result").hidden = true;
    show(`Could not classify this file: ${error.message}`);
    $("status").textContent = "failed";
  }
}

async function loadSamples() {
  const response = await fetch("/samples");
  const samples = await response.json();
  const box = $("samples");
  box.append("Samples: ");
  for (const sample of samples) {
    const button = document.createElement("button");
    button.type = "button";
    button.title = sample.file;
    const image = document.createElement("img");
    image.src = sample.url;
    image.alt = sample.file;
    button.append(image);
    button.addEventListener("click", async () => {
      const blob = await (await fetch(sample.url)).blob();
      classify(blob, sample.file);
    });
    box.append(button);
  }
}

$("file").addEventListener("change", (event) => {
  if (event.target.files.length) classify(event.target.files[0]);
});
const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) classify(event.dataTransfer.files[0]);
});
loadSamples();
